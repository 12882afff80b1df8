import { describe, expect, it } from 'vitest';
import { phaseSpans, topology } from './model';

const at = (ms: number) => new Date(Date.UTC(2026, 11, 2, 10, 0, 0, ms)).toISOString();

describe('phaseSpans', () => {
  it('measures each phase from its first step to the next phase, leaving out phases without both ends', () => {
    const steps = ['fault_seen', 'odown', 'decided', 'candidates', 'promoted', 'published', 'replicas_repointed'].map((name, i) => ({
      name,
      at: at([0, 1000, 1030, 1035, 1060, 1080, 1120][i]!),
    }));
    expect(phaseSpans(steps)).toEqual([
      { name: 'detect', ms: 1000 },
      { name: 'decide', ms: 30 },
      { name: 'promote', ms: 30 },
      { name: 'publish', ms: 20 },
      { name: 're-point', ms: 40 },
    ]);
    // A switchover has no detection.
    expect(phaseSpans(steps.slice(2)).map((p) => p.name)).toEqual(['promote', 'publish', 're-point']);
  });
});

describe('topology', () => {
  const node = (id: string, port: number, role: 'master' | 'replica', zone: string) => ({ id, host: '10.0.0.1', port, role, priority: 100, zone });
  const view = (replication: Record<string, unknown>) => ({
    name: 'probe-a',
    zone: 'a',
    ok: true,
    status: 'ok' as const,
    lastOkAt: at(0),
    latencyMs: 1,
    noReplyMs: 0,
    sdown: false,
    voting: true,
    stale: false,
    tilted: false,
    replication: { readAt: at(0), ...replication },
  });
  const health = (nodes: { id: string; port: number; replication: Record<string, unknown>; state?: string }[]) => ({
    cluster: 'orders',
    quorum: 2,
    downAfterMs: 1000,
    canDecide: true,
    cannotDecideReason: null,
    assignedAgents: 1,
    usableAgents: 1,
    healthyAgents: 1,
    nodes: nodes.map((n) => ({
      id: n.id,
      host: '10.0.0.1',
      port: n.port,
      role: 'replica' as const,
      state: (n.state ?? 'up') as 'up',
      assigned: 1,
      voters: 1,
      sdownVotes: 0,
      agents: [view(n.replication)],
    })),
  });
  const cluster = {
    master: { host: '10.0.0.1', port: 1 },
    nodes: [node('m', 1, 'master', 'a'), node('r1', 2, 'replica', 'b'), node('r2', 3, 'replica', 'c')],
  } as never;

  it('computes lag from the master offset and flags a replica that follows another master or lost its link', () => {
    const t = topology(
      cluster,
      health([
        { id: 'm', port: 1, replication: { role: 'master', offset: 5000 } },
        { id: 'r1', port: 2, replication: { role: 'replica', offset: 4000, masterHost: '10.0.0.1', masterPort: 1, linkUp: true, lastIoS: 1 } },
        { id: 'r2', port: 3, replication: { role: 'replica', offset: 100, masterHost: '10.0.0.9', masterPort: 1, linkUp: false }, state: 'sdown' },
      ]) as never,
    );
    expect(t.master?.address).toBe('10.0.0.1:1');
    expect(t.others.map((n) => [n.address, n.lagBytes, n.lagS])).toEqual([
      ['10.0.0.1:2', 1000, 1],
      ['10.0.0.1:3', 4900, null],
    ]);
    expect(t.others[1]!.flags).toEqual(['subjectively down', 'follows 10.0.0.9:1, not the master', 'link down']);
    expect(t.zones).toEqual(['a', 'b', 'c']);
  });

  it('flags a node other than the recorded master that claims to be master', () => {
    const t = topology(cluster, health([{ id: 'r1', port: 2, replication: { role: 'master', offset: 1 } }]) as never);
    expect(t.others[0]!.flags).toContain('claims to be master: demotion pending');
  });
});
