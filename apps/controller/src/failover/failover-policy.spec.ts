import { describe, expect, it } from 'vitest';
import { type AutoFailoverContext, autoFailoverChecks, autoFailoverContext, autoFailoverRefusal, retryBackoffMs, retryBaseMs } from './failover-policy.js';

const OK: AutoFailoverContext = {
  now: 1_000_000,
  autoFailover: true,
  maintenanceUntil: null,
  cooldownMs: 60_000,
  lastSucceededAt: null,
  failuresSince: 0,
  lastFailedAt: null,
  retryBaseMs: 2000,
  running: false,
  canDecide: true,
};

describe('autoFailoverRefusal', () => {
  it('allows a failover when nothing stands in the way', () => {
    expect(autoFailoverRefusal(OK)).toBeUndefined();
    expect(autoFailoverRefusal({ ...OK, maintenanceUntil: OK.now - 1, lastSucceededAt: OK.now - 60_000 })).toBeUndefined();
  });

  it('refuses with a reason for each case', () => {
    expect(autoFailoverRefusal({ ...OK, running: true })?.code).toBe('running');
    expect(autoFailoverRefusal({ ...OK, autoFailover: false })?.code).toBe('auto_failover_off');
    expect(autoFailoverRefusal({ ...OK, maintenanceUntil: OK.now + 1000 })).toEqual({
      code: 'maintenance',
      reason: `in maintenance until ${new Date(OK.now + 1000).toISOString()}`,
    });
    expect(autoFailoverRefusal({ ...OK, lastSucceededAt: OK.now - 10_000 })).toEqual({
      code: 'cooldown',
      reason: 'in cooldown for another 50 s after the last successful failover',
    });
    expect(autoFailoverRefusal({ ...OK, canDecide: false, cannotDecideReason: 'quorum 4 exceeds the 3 agents assigned' })).toEqual({
      code: 'cannot_decide',
      reason: 'quorum 4 exceeds the 3 agents assigned',
    });
  });

  it('a failed failover starts no cooldown: it is retried with a growing backoff', () => {
    expect(autoFailoverRefusal({ ...OK, failuresSince: 1, lastFailedAt: OK.now - 1000 })).toEqual({
      code: 'backoff',
      reason: '1 failed attempt(s): next try in 1 s',
    });
    expect(autoFailoverRefusal({ ...OK, failuresSince: 1, lastFailedAt: OK.now - 2000 })).toBeUndefined();
    expect(autoFailoverRefusal({ ...OK, failuresSince: 3, lastFailedAt: OK.now - 5000 })?.code).toBe('backoff');
    expect(retryBackoffMs(0, 2000)).toBe(0);
    expect(retryBackoffMs(3, 2000)).toBe(8000);
    expect(retryBackoffMs(20, 2000)).toBe(60_000);
  });
});

describe('autoFailoverChecks', () => {
  it('evaluates every guard, in the order they refuse, saying what each found', () => {
    const checks = autoFailoverChecks({ ...OK, lastSucceededAt: OK.now - 120_000, failuresSince: 1, lastFailedAt: OK.now - 5000 });
    expect(checks).toEqual([
      { code: 'running', passed: true, reason: 'no failover of this cluster is running' },
      { code: 'auto_failover_off', passed: true, reason: 'automatic failover is on' },
      { code: 'maintenance', passed: true, reason: 'not in maintenance' },
      { code: 'cooldown', passed: true, reason: `cooldown over (the last successful failover ended ${new Date(OK.now - 120_000).toISOString()})` },
      { code: 'backoff', passed: true, reason: '1 failed attempt(s) since the last success; the retry is due' },
      { code: 'cannot_decide', passed: true, reason: 'enough usable agents to decide' },
    ]);
    const failing = autoFailoverChecks({ ...OK, running: true, autoFailover: false, canDecide: false });
    expect(failing.filter((c) => !c.passed).map((c) => c.code)).toEqual(['running', 'auto_failover_off', 'cannot_decide']);
  });

  it('builds its context from a cluster, its history and detection', () => {
    const ctx = autoFailoverContext(
      { autoFailover: true, maintenanceUntil: new Date(5000), cooldownMs: 300_000, downAfterMs: 5000 },
      { running: null, lastSucceededAt: new Date(1000), failuresSince: 2, lastFailedAt: new Date(2000) },
      { canDecide: true },
      9000,
    );
    expect(ctx).toEqual({
      now: 9000,
      autoFailover: true,
      maintenanceUntil: 5000,
      cooldownMs: 300_000,
      lastSucceededAt: 1000,
      failuresSince: 2,
      lastFailedAt: 2000,
      retryBaseMs: 5000,
      running: false,
      canDecide: true,
    });
    expect(retryBaseMs(500)).toBe(2000);
  });
});
