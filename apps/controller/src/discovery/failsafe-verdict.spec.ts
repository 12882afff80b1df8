import { describe, expect, it } from 'vitest';
import { failsafeVerdict, type FailsafeInput, MAX_ROLE_AGE_MS, type NodeSighting } from './failsafe-verdict.js';

const up = (nodeId: string, role: 'master' | 'replica', extra: Partial<NodeSighting> = {}): NodeSighting => ({
  nodeId,
  voters: 3,
  upVotes: 3,
  sdownVotes: 0,
  role,
  roleAgeMs: 500,
  claimedMasterBy: role === 'master' ? 3 : 0,
  ...extra,
});

const cluster = (master: NodeSighting, ...replicas: NodeSighting[]): FailsafeInput => ({
  masterNodeId: master.nodeId,
  quorum: 2,
  nodes: [master, ...replicas],
});

describe('failsafeVerdict (publishing the last committed master while PostgreSQL is unreachable)', () => {
  it('publishes a master every voting agent sees up, answering ROLE master, with replicas only', () => {
    expect(failsafeVerdict(cluster(up('m', 'master'), up('r1', 'replica'), up('r2', 'replica')))).toEqual({ publish: true });
  });

  it('publishes with a majority of the voters up when they reach the quorum', () => {
    expect(failsafeVerdict(cluster(up('m', 'master', { voters: 3, upVotes: 2 }), up('r', 'replica')))).toEqual({ publish: true });
  });

  it('does not publish without a recorded master, or when no agent votes on it', () => {
    expect(failsafeVerdict({ masterNodeId: null, quorum: 2, nodes: [up('r', 'replica')] })).toMatchObject({ publish: false });
    expect(failsafeVerdict(cluster(up('m', 'master', { voters: 0, upVotes: 0 })))).toMatchObject({ publish: false, reason: expect.stringMatching(/no agent/) });
    expect(failsafeVerdict({ masterNodeId: 'gone', quorum: 2, nodes: [up('r', 'replica')] })).toMatchObject({ publish: false });
  });

  it('does not publish when any voter sees the master SDOWN', () => {
    expect(failsafeVerdict(cluster(up('m', 'master', { upVotes: 2, sdownVotes: 1 }), up('r', 'replica')))).toMatchObject({
      publish: false,
      reason: '1 of 3 agents see the master down',
    });
  });

  it('does not publish without a majority of up votes, or with fewer up votes than the quorum', () => {
    // Two voters, one refusing our credentials: one up vote is not a majority.
    expect(failsafeVerdict(cluster(up('m', 'master', { voters: 2, upVotes: 1 })))).toMatchObject({ publish: false });
    // One agent left voting: a majority of one, but below the quorum of 2.
    expect(failsafeVerdict(cluster(up('m', 'master', { voters: 1, upVotes: 1 })))).toMatchObject({ publish: false, reason: expect.stringMatching(/quorum 2/) });
  });

  it('does not publish when the master answers ROLE replica, or when its role has not been read recently', () => {
    expect(failsafeVerdict(cluster(up('m', 'replica'), up('r', 'replica')))).toMatchObject({ publish: false, reason: 'the master answers ROLE replica' });
    expect(failsafeVerdict(cluster(up('m', 'master', { role: undefined, roleAgeMs: undefined })))).toMatchObject({ publish: false });
    expect(failsafeVerdict(cluster(up('m', 'master', { roleAgeMs: MAX_ROLE_AGE_MS + 1 })))).toMatchObject({ publish: false });
    expect(failsafeVerdict(cluster(up('m', 'master', { roleAgeMs: MAX_ROLE_AGE_MS })))).toEqual({ publish: true });
  });

  it('does not publish when any agent sees another node claim master, even a node that is down', () => {
    expect(failsafeVerdict(cluster(up('m', 'master'), up('r', 'replica', { claimedMasterBy: 1 })))).toMatchObject({
      publish: false,
      reason: 'another node (r) claims master',
    });
    expect(failsafeVerdict(cluster(up('m', 'master'), up('r', 'master', { voters: 3, upVotes: 0, sdownVotes: 3, claimedMasterBy: 1 })))).toMatchObject({
      publish: false,
    });
  });
});
