import { describe, expect, it } from 'vitest';
import type { NodeView } from '../detection/node-view.js';
import { candidateFromReading, type DecisionNowInput, decisionNow, type ViewedNode } from './decision-now.js';
import type { AutoFailoverContext } from './failover-policy.js';

const NOW = 1_000_000;

const view = (over: Partial<NodeView> = {}): NodeView => ({
  state: 'up',
  since: NOW - 60_000,
  assigned: 3,
  voters: 3,
  sdownVotes: 0,
  faultVotes: 0,
  votes: [],
  lastOkAt: NOW - 100,
  repl: null,
  claimedMasterBy: 0,
  ...over,
});

const node = (id: string, port: number, v: Partial<NodeView> = {}, priority = 100): ViewedNode => ({ id, host: '10.0.0.1', port, priority, view: view(v) });

const replica = (offset: number, over: Partial<NonNullable<NodeView['repl']>> = {}): NodeView['repl'] => ({
  role: 'replica',
  offset,
  masterHost: '10.0.0.1',
  masterPort: 6379,
  linkUp: true,
  ageMs: 0,
  readAt: NOW - 500,
  ...over,
});

const POLICY: AutoFailoverContext = {
  now: NOW,
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

const down = (): Partial<NodeView> => ({ state: 'odown', since: NOW - 2000, sdownVotes: 3 });

const input = (over: Partial<DecisionNowInput> = {}): DecisionNowInput => ({
  now: NOW,
  cluster: { quorum: 2, downAfterMs: 1000, maxReplicaLagBytes: 0 },
  master: node('m', 6379, down()),
  others: [node('r1', 6380, { repl: replica(100) }), node('r2', 6381, { repl: replica(90) })],
  policy: POLICY,
  leader: true,
  ...over,
});

const check = (d: ReturnType<typeof decisionNow>, name: string) => d.checks.find((c) => c.name === name);

describe('decisionNow', () => {
  it('would fail over when the master is ODOWN and every guard passes, naming the candidate', () => {
    const d = decisionNow(input());
    expect(d.wouldFailOver).toBe(true);
    expect(d.checks.map((c) => c.name)).toEqual([
      'master-odown',
      'no-failover-running',
      'auto-failover',
      'maintenance',
      'cooldown',
      'backoff',
      'can-decide',
      'leader',
      'safe-candidate',
    ]);
    expect(d.checks.every((c) => c.passed)).toBe(true);
    expect(check(d, 'safe-candidate')!.detail).toMatch(/10\.0\.0\.1:6380 would be promoted \(offset 100/);
    expect(d.reason).toMatch(/master's own evidence/);
  });

  it('would not while the master is up, saying how far ODOWN is', () => {
    const d = decisionNow(input({ master: node('m', 6379, { sdownVotes: 1, state: 'sdown' }) }));
    expect(d.wouldFailOver).toBe(false);
    expect(d.reason).toBe(
      'the master 10.0.0.1:6379 is sdown: 1 of 3 assigned agents see it down (3 voting); ODOWN needs 2 (quorum 2 and a strict majority of 3)',
    );
    // The other checks are still evaluated.
    expect(check(d, 'safe-candidate')!.passed).toBe(true);
  });

  it('would not without a recorded master', () => {
    expect(decisionNow(input({ master: null })).reason).toBe('no master is recorded');
  });

  it('reports each policy guard, leadership and the candidates, the first failure being the reason', () => {
    const d = decisionNow(input({ policy: { ...POLICY, autoFailover: false, maintenanceUntil: NOW + 5000 }, leader: false }));
    expect(d.wouldFailOver).toBe(false);
    expect(d.reason).toBe('automatic failover is off for this cluster');
    expect(check(d, 'maintenance')).toEqual({ name: 'maintenance', passed: false, detail: `in maintenance until ${new Date(NOW + 5000).toISOString()}` });
    // A standby answers for the leader: not leading is said, not counted as a blocking guard.
    expect(check(d, 'leader')).toMatchObject({ passed: true, detail: expect.stringContaining('standby') });
    expect(decisionNow(input({ leader: false })).wouldFailOver).toBe(decisionNow(input({ leader: true })).wouldFailOver);
    expect(decisionNow(input({ policy: { ...POLICY, lastSucceededAt: NOW - 10_000 } })).reason).toBe(
      'in cooldown for another 50 s after the last successful failover',
    );
    expect(decisionNow(input({ policy: { ...POLICY, canDecide: false, cannotDecideReason: '1 of 3 assigned agents can vote; ODOWN needs 2' } })).reason).toBe(
      '1 of 3 assigned agents can vote; ODOWN needs 2',
    );
  });

  it('says no, with the reason, when the failover history cannot be read (PostgreSQL unreachable)', () => {
    const d = decisionNow(input({ policy: { unavailable: 'PostgreSQL is unreachable (connect ECONNREFUSED)' } }));
    expect(d.wouldFailOver).toBe(false);
    expect(check(d, 'failover-history')).toEqual({ name: 'failover-history', passed: false, detail: 'PostgreSQL is unreachable (connect ECONNREFUSED)' });
    expect(check(d, 'cooldown')).toBeUndefined();
  });

  it('finds no safe candidate from the readings: down, never synced, no reading', () => {
    const d = decisionNow(
      input({
        others: [
          node('r1', 6380, { state: 'odown', repl: replica(100) }),
          node('r2', 6381, { repl: replica(0, { linkUp: false, linkDownSinceS: -1 }) }),
          node('r3', 6382, {}),
        ],
      }),
    );
    expect(d.wouldFailOver).toBe(false);
    expect(d.reason).toMatch(/^no replica can be promoted safely per the agents' latest readings \(10\.0\.0\.1:6380: detection holds it odown; /);
    expect(d.reason).toMatch(/6381: never completed a sync/);
    expect(d.reason).toMatch(/6382: unreachable: no INFO reading from the agents yet/);
  });
});

describe('candidateFromReading', () => {
  it('ages a link that was down when read', () => {
    const c = candidateFromReading(node('r', 6380, { repl: replica(5, { linkUp: false, linkDownSinceS: 10, readAt: NOW - 3500 }) }), NOW);
    expect(c.probe).toMatchObject({ ok: true, linkUp: false, linkDownSinceS: 13 });
  });
});
