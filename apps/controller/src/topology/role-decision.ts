import type { NodeReplicationProbe } from '../../../../libs/redis-admin/src/index.js';
import type { NodeRole } from './node.entity.js';

export interface RoleDecisionInput {
  id: string;
  host: string;
  port: number;
  /** The role recorded before this round. */
  recorded: NodeRole;
  probe: NodeReplicationProbe;
}

export interface RoleDecision {
  roles: Map<string, NodeRole>;
  masterId: string | null;
  warnings: string[];
}

/**
 * Decides each node's role from what the nodes say about themselves. A node that does not answer
 * keeps its recorded role (a missed reply is not evidence of anything), unless it was recorded as
 * master and an answering node is master now. One self-declared master wins outright. Several self-declared masters are resolved only when one has strictly more of the
 * group's replicas following it; the losers (and every claimant when it is a tie) become `unknown`,
 * since recording two masters would publish a split brain.
 */
export function decideRoles(nodes: RoleDecisionInput[]): RoleDecision {
  const roles = new Map<string, NodeRole>();
  const warnings: string[] = [];
  const claimants: RoleDecisionInput[] = [];
  for (const node of nodes) {
    if (!node.probe.ok) {
      roles.set(node.id, node.recorded);
      continue;
    }
    if (node.probe.info.role === 'master') claimants.push(node);
    roles.set(node.id, node.probe.info.role === 'master' ? 'master' : 'replica');
  }
  if (claimants.length === 0) {
    const silentMaster = nodes.find((n) => !n.probe.ok && n.recorded === 'master');
    return { roles, masterId: silentMaster?.id ?? null, warnings };
  }
  // An answering master outranks a recorded one that is silent.
  for (const n of nodes) if (!n.probe.ok && n.recorded === 'master') roles.set(n.id, 'unknown');
  if (claimants.length === 1) return { roles, masterId: claimants[0]!.id, warnings };

  const followers = (candidate: RoleDecisionInput) =>
    nodes.filter(
      (n) => n.probe.ok && n.probe.info.role === 'replica' && n.probe.info.masterHost === candidate.host && n.probe.info.masterPort === candidate.port,
    ).length;
  const ranked = claimants.map((c) => ({ c, followers: followers(c) })).sort((a, b) => b.followers - a.followers);
  const winner = ranked[0]!.followers > ranked[1]!.followers ? ranked[0]!.c : null;
  for (const { c } of ranked) {
    if (c !== winner) {
      roles.set(c.id, 'unknown');
      warnings.push(
        `${c.host}:${c.port} claims to be master${winner ? ` but the replicas follow ${winner.host}:${winner.port}` : ' as do other nodes; no majority of replicas decides'}`,
      );
    }
  }
  return { roles, masterId: winner?.id ?? null, warnings };
}
