import { describe, expect, it } from 'vitest';
import { type AutoFailoverContext, autoFailoverRefusal } from './failover-policy.js';

const OK: AutoFailoverContext = {
  now: 1_000_000,
  autoFailover: true,
  maintenanceUntil: null,
  cooldownMs: 60_000,
  lastFailoverFinishedAt: null,
  running: false,
  canDecide: true,
};

describe('autoFailoverRefusal', () => {
  it('allows a failover when nothing stands in the way', () => {
    expect(autoFailoverRefusal(OK)).toBeUndefined();
    expect(autoFailoverRefusal({ ...OK, maintenanceUntil: OK.now - 1, lastFailoverFinishedAt: OK.now - 60_000 })).toBeUndefined();
  });

  it('refuses with a reason for each case', () => {
    expect(autoFailoverRefusal({ ...OK, running: true })?.code).toBe('running');
    expect(autoFailoverRefusal({ ...OK, autoFailover: false })?.code).toBe('auto_failover_off');
    expect(autoFailoverRefusal({ ...OK, maintenanceUntil: OK.now + 1000 })).toEqual({
      code: 'maintenance',
      reason: `in maintenance until ${new Date(OK.now + 1000).toISOString()}`,
    });
    expect(autoFailoverRefusal({ ...OK, lastFailoverFinishedAt: OK.now - 10_000 })).toEqual({
      code: 'cooldown',
      reason: 'in cooldown for another 50 s after the last failover',
    });
    expect(autoFailoverRefusal({ ...OK, canDecide: false })?.code).toBe('cannot_decide');
  });
});
