import { describe, expect, it } from 'vitest';
import { type MasterEvidenceInput, masterEvidence } from './master-evidence.js';

const NOW = 1_000_000;
const base = (over: Partial<MasterEvidenceInput> = {}): MasterEvidenceInput => ({
  now: NOW,
  master: { host: '10.0.0.1', port: 6379 },
  leaderProbe: { answered: false, error: 'connect ECONNREFUSED' },
  replicas: [],
  agentsLastOkAt: NOW - 5000,
  probeIntervalMs: 500,
  ...over,
});
const replica = (lastIoS: number | undefined, over: Record<string, unknown> = {}) => ({
  host: '10.0.0.2',
  port: 6379,
  probe: { ok: true as const, role: 'replica' as const, masterHost: '10.0.0.1', masterPort: 6379, linkUp: true, lastIoS, ...over },
});

describe('masterEvidence', () => {
  it('a master answering the leader is alive, whatever the agents say', () => {
    const e = masterEvidence(base({ leaderProbe: { answered: true, role: 'master' } }));
    expect(e.alive).toBe(true);
    expect(e.summary).toMatch(/answers the leader/);
  });

  it('a crashed master (refused, every replica link down) is dead', () => {
    const e = masterEvidence(base({ replicas: [replica(-1, { linkUp: false })] }));
    expect(e).toMatchObject({ alive: false, replicas: [{ replica: '10.0.0.2:6379', saysAlive: false, linkUp: false }] });
  });

  it('a replica that still receives the stream after the agents lost the master says it is alive', () => {
    // The agents last heard it 5 s ago; the replica heard it within the last second.
    expect(masterEvidence(base({ replicas: [replica(0)] })).alive).toBe(true);
  });

  it('a hung master is not alive: its replicas last heard it no later than one interval after the agents did', () => {
    // Hung 1.2 s ago, right after the agents' last reply; link still up (repl-timeout not reached), last I/O 1 s ago.
    const e = masterEvidence(base({ agentsLastOkAt: NOW - 1300, replicas: [replica(1)] }));
    expect(e.alive).toBe(false);
    // Whole seconds: even a reading of 0 s is not later than the agents' last reply plus an interval.
    expect(masterEvidence(base({ agentsLastOkAt: NOW - 1000, replicas: [replica(0)] })).alive).toBe(false);
  });

  it('only a replica of this master with its link up counts', () => {
    expect(masterEvidence(base({ replicas: [replica(0, { masterHost: '10.0.0.9' })] })).alive).toBe(false);
    expect(masterEvidence(base({ replicas: [replica(0, { linkUp: false })] })).alive).toBe(false);
    expect(masterEvidence(base({ replicas: [{ host: 'r', port: 1, probe: { ok: false as const, error: 'timeout' } }] })).alive).toBe(false);
  });
});
