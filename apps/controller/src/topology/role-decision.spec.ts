import { describe, expect, it } from 'vitest';
import type { ReplicationInfo } from '../../../../libs/redis-admin/src/index.js';
import type { NodeRole } from './node.entity.js';
import { decideRoles, type RoleDecisionInput } from './role-decision.js';

const master = (id: string, port: number): RoleDecisionInput => ({
  id,
  host: 'h',
  port,
  recorded: 'unknown',
  probe: { ok: true, info: { role: 'master', masterReplOffset: 10, connectedReplicas: [] } as ReplicationInfo },
});
const replica = (id: string, port: number, of: number): RoleDecisionInput => ({
  id,
  host: 'h',
  port,
  recorded: 'unknown',
  probe: { ok: true, info: { role: 'replica', masterHost: 'h', masterPort: of, masterReplOffset: 10, connectedReplicas: [] } as ReplicationInfo },
});
const down = (id: string, port: number, recorded: NodeRole = 'unknown'): RoleDecisionInput => ({
  id,
  host: 'h',
  port,
  recorded,
  probe: { ok: false, error: 'ECONNREFUSED', authFailure: false },
});

describe('decideRoles', () => {
  it('takes the single self-declared master', () => {
    const d = decideRoles([master('a', 1), replica('b', 2, 1), down('c', 3)]);
    expect(d.masterId).toBe('a');
    expect(Object.fromEntries(d.roles)).toEqual({ a: 'master', b: 'replica', c: 'unknown' });
    expect(d.warnings).toEqual([]);
  });

  it('resolves two claimants by the replicas that follow them', () => {
    const d = decideRoles([master('a', 1), master('b', 2), replica('c', 3, 2)]);
    expect(d.masterId).toBe('b');
    expect(d.roles.get('a')).toBe('unknown');
    expect(d.warnings[0]).toMatch(/h:1 claims to be master but the replicas follow h:2/);
  });

  it('records no master on a tie rather than two', () => {
    const d = decideRoles([master('a', 1), master('b', 2)]);
    expect(d.masterId).toBeNull();
    expect([...d.roles.values()]).toEqual(['unknown', 'unknown']);
    expect(d.warnings).toHaveLength(2);
  });

  it('finds no master when none answers and none was recorded', () => {
    expect(decideRoles([down('a', 1)]).masterId).toBeNull();
  });

  it('keeps the recorded roles of nodes that miss a round', () => {
    const d = decideRoles([down('a', 1, 'master'), down('b', 2, 'replica'), replica('c', 3, 1)]);
    expect(d.masterId).toBe('a');
    expect(Object.fromEntries(d.roles)).toEqual({ a: 'master', b: 'replica', c: 'replica' });
  });

  it('lets an answering master outrank a silent recorded one', () => {
    const d = decideRoles([down('a', 1, 'master'), master('b', 2)]);
    expect(d.masterId).toBe('b');
    expect(Object.fromEntries(d.roles)).toEqual({ a: 'unknown', b: 'master' });
  });
});
