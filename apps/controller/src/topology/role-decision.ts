import type { NodeReplicationProbe } from '../../../../libs/redis-admin/src/index.js';
import type { NodeRole } from './node.entity.js';

export interface RoleDecisionInput {
  id: string;
  host: string;
  port: number;
  probe: NodeReplicationProbe;
}

export interface RoleDecision {
  roles: Map<string, NodeRole>;
  masterId: string | null;
  warnings: string[];
}

/**
 * Decides each node's role from what the nodes say about themselves. One self-declared master wins
 * outright. Several self-declared masters are resolved only when one has strictly more of the
 * group's replicas following it; the losers (and every claimant when it is a tie) become `unknown`,
 * since recording two masters would publish a split brain.
 */
export function decideRoles(nodes: RoleDecisionInput[]): RoleDecision {
  const roles = new Map<string, NodeRole>();
  const warnings: string[] = [];
  const claimants: RoleDecisionInput[] = [];
  for (const node of nodes) {
    if (!node.probe.ok) {
      roles.set(node.id, 'unknown');
      continue;
    }
    if (node.probe.info.role === 'master') claimants.push(node);
    roles.set(node.id, node.probe.info.role === 'master' ? 'master' : 'replica');
  }
  if (claimants.length <= 1) return { roles, masterId: claimants[0]?.id ?? null, warnings };

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
