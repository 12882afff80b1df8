import { describe, expect, it } from 'vitest';
import { type AutoFailoverContext, autoFailoverRefusal, retryBackoffMs } from './failover-policy.js';

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
