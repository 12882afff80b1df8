import { describe, expect, it } from 'vitest';
import { advanceCursor, type DispatchHook, hookWants } from './webhook-dispatch.js';

describe('hookWants', () => {
  const global: DispatchHook = { id: 'g', clusterId: null, types: null, startAfter: 10n };
  const scoped: DispatchHook = { id: 's', clusterId: 'c1', types: ['master.changed'], startAfter: 0n };

  it('takes only events after the webhook was created', () => {
    expect(hookWants(global, { id: 10n, type: 'x.y', clusterId: null })).toBe(false);
    expect(hookWants(global, { id: 11n, type: 'x.y', clusterId: null })).toBe(true);
  });

  it('matches the cluster and the types', () => {
    expect(hookWants(scoped, { id: 1n, type: 'master.changed', clusterId: 'c1' })).toBe(true);
    expect(hookWants(scoped, { id: 1n, type: 'master.changed', clusterId: 'c2' })).toBe(false);
    expect(hookWants(scoped, { id: 1n, type: 'master.changed', clusterId: null })).toBe(false);
    expect(hookWants(scoped, { id: 1n, type: 'cluster.updated', clusterId: 'c1' })).toBe(false);
  });
});

describe('advanceCursor', () => {
  it('moves over consecutive ids', () => {
    expect(advanceCursor(5n, [6n, 7n, 8n], 0n)).toEqual({ cursor: 8n, accepted: 3 });
  });

  it('stops before a missing id that may still be committed', () => {
    expect(advanceCursor(5n, [6n, 8n, 9n], 0n)).toEqual({ cursor: 6n, accepted: 1, blockedAt: 7n });
    expect(advanceCursor(5n, [7n], 0n)).toEqual({ cursor: 5n, accepted: 0, blockedAt: 6n });
  });

  it('moves over missing ids known to be settled, and stops at the next unsettled one', () => {
    expect(advanceCursor(5n, [6n, 8n, 9n], 7n)).toEqual({ cursor: 9n, accepted: 3 });
    expect(advanceCursor(5n, [6n, 8n, 12n], 9n)).toEqual({ cursor: 8n, accepted: 2, blockedAt: 10n });
  });
});
