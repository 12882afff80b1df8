/**
 * The quorum rule (PRODUCT.md §3) as plain functions: what ODOWN needs, and whether a cluster's agents
 * can give it. The denominator is the agents *assigned* to the cluster — every registered agent that
 * watches it, reporting or not — never the agents voting now: a silent agent is a "not down" vote.
 */

export const NODE_STATES = ['up', 'sdown', 'odown', 'config-fault', 'unknown'] as const;
export type NodeState = (typeof NODE_STATES)[number];

/** Whether the agents of a cluster can decide ODOWN at all, and why not. */
export interface DecisionCapacity {
  canDecide: boolean;
  reason?: string;
  /** Agents assigned to the cluster (the majority is taken of these). */
  assigned: number;
  /** Assigned agents that could vote now: healthy (not stale) and not stalled (tilted). */
  usable: number;
}

/** SDOWN votes ODOWN needs: `quorum`, and a strict majority of the assigned agents. */
export function odownNeeds(quorum: number, assigned: number): number {
  return Math.max(quorum, Math.floor(assigned / 2) + 1);
}

/**
 * The quorum rule. ODOWN: at least `quorum` SDOWN votes that are also a strict majority of the
 * `assigned` agents — not of the `voters`: an agent that does not vote now counts as "not down".
 * `assigned` below `voters` (a caller's mistake) is taken as `voters`, never as a smaller denominator.
 */
export function decide(assigned: number, voters: number, sdownVotes: number, faultVotes: number, quorum: number): NodeState {
  if (voters === 0) return 'unknown';
  if (sdownVotes >= odownNeeds(quorum, Math.max(assigned, voters))) return 'odown';
  if (sdownVotes > 0) return 'sdown';
  return faultVotes > 0 ? 'config-fault' : 'up';
}

/** Whether `usable` of `assigned` agents can reach both `quorum` and a strict majority of the assigned. */
export function decisionCapacity(quorum: number, assigned: number, usable: number): DecisionCapacity {
  if (quorum > assigned) return { canDecide: false, reason: `quorum ${quorum} exceeds the ${assigned} agents assigned`, assigned, usable };
  const needed = odownNeeds(quorum, assigned);
  if (usable < needed) return { canDecide: false, reason: `${usable} of ${assigned} assigned agents can vote; ODOWN needs ${needed}`, assigned, usable };
  return { canDecide: true, assigned, usable };
}
