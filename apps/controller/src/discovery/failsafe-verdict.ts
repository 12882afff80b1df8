/**
 * Whether a controller replica that cannot reach PostgreSQL may keep publishing a cluster's last
 * committed master (Patroni's failsafe mode is the model). Nothing can fail over while PostgreSQL is
 * unreachable (the leader lease lives there), so the last committed master is still the right answer as
 * long as the agents' current views agree that it is alive and still the only master. Pure: the caller
 * summarises detection's views per node.
 */

/** What the agents' current views say about one node of the cluster. */
export interface NodeSighting {
  nodeId: string;
  /** Agents whose view may vote on the node now (healthy, recent report, not tilted). */
  voters: number;
  /** Voters that had a valid reply within down-after (neither SDOWN nor refusing our credentials). */
  upVotes: number;
  /** Voters that see the node SDOWN. */
  sdownVotes: number;
  /** The role of the freshest `INFO replication` any non-stale agent read from the node. */
  role?: 'master' | 'replica';
  /** Age of that reading, in ms. */
  roleAgeMs?: number;
  /** Non-stale agents whose latest reading of the node says it is a master. */
  claimedMasterBy: number;
}

export interface FailsafeInput {
  /** The node recorded as master when PostgreSQL was last read; null when none was recorded. */
  masterNodeId: string | null;
  /** The cluster's quorum: as many agents must see the master up as it takes to see it down. */
  quorum: number;
  /** Every node of the cluster, the master included. */
  nodes: readonly NodeSighting[];
}

export type FailsafeVerdict = { publish: true } | { publish: false; reason: string };

/**
 * An `INFO replication` reading older than this does not count: agents send it when it changes and at
 * least every 5 s, so an older one means the agents no longer read the node.
 */
export const MAX_ROLE_AGE_MS = 15_000;

/**
 * The last committed master is published iff (1) the views that vote on it see it up: no SDOWN vote,
 * up votes a majority of the voters and at least the quorum (an isolated controller that kept one
 * agent must not speak for the cluster); (2) the freshest reading of its role says master; (3) no agent
 * sees any other node of the cluster claim master.
 */
export function failsafeVerdict(input: FailsafeInput): FailsafeVerdict {
  if (input.masterNodeId === null) return { publish: false, reason: 'no master was recorded' };
  const master = input.nodes.find((n) => n.nodeId === input.masterNodeId);
  if (!master || master.voters === 0) return { publish: false, reason: 'no agent votes on the master now' };
  if (master.sdownVotes > 0) return { publish: false, reason: `${master.sdownVotes} of ${master.voters} agents see the master down` };
  if (master.upVotes * 2 <= master.voters || master.upVotes < input.quorum) {
    return { publish: false, reason: `${master.upVotes} of ${master.voters} agents see the master up (quorum ${input.quorum})` };
  }
  if (master.role === undefined || master.roleAgeMs === undefined || master.roleAgeMs > MAX_ROLE_AGE_MS) {
    return { publish: false, reason: 'no recent ROLE reading of the master' };
  }
  if (master.role !== 'master') return { publish: false, reason: `the master answers ROLE ${master.role}` };
  const rival = input.nodes.find((n) => n.nodeId !== input.masterNodeId && n.claimedMasterBy > 0);
  if (rival) return { publish: false, reason: `another node (${rival.nodeId}) claims master` };
  return { publish: true };
}
