import type { CachedCluster } from '../topology/topology-cache.service.js';
import { DetectionEngine } from './detection-engine.js';
import type { AgentNodeViewDto, ClusterHealthDto, NodeHealthDto } from './dto/health.dto.js';

/** The health of one cluster as this controller's detection sees it now, from memory only. */
export function clusterHealth(engine: DetectionEngine, cluster: CachedCluster, now: number): ClusterHealthDto {
  const healthyAgents = engine.healthyAgents(cluster.id);
  const capacity = engine.canDecide(cluster.id, now);
  const nodes: NodeHealthDto[] = cluster.nodes.map((node) => {
    const verdict = engine.verdict(node.id, now);
    const track = engine.nodes.get(node.id);
    const agents: AgentNodeViewDto[] = [];
    for (const agent of engine.agents.values()) {
      const view = agent.views.get(node.id);
      if (!view) continue;
      const vote = verdict?.votes.find((v) => v.agent === agent.name);
      const noReplyMs = DetectionEngine.noReplyMs(view, now);
      const dto: AgentNodeViewDto = {
        name: agent.name,
        zone: agent.zone,
        ok: view.st === 'ok' || view.st === 'busy',
        status: view.st,
        lastOkAt: view.okAt > 0 ? new Date(view.okAt).toISOString() : null,
        latencyMs: view.latencyMs ?? null,
        noReplyMs,
        sdown: vote ? vote.sdown : view.st !== 'auth' && noReplyMs >= cluster.downAfterMs,
        voting: vote !== undefined,
        stale: agent.stale,
        tilted: engine.tilted(agent, cluster),
      };
      if (view.err !== undefined) dto.error = view.err;
      if (view.repl) {
        const { readAt, ageMs: _age, ...repl } = view.repl;
        dto.replication = { ...repl, readAt: new Date(readAt).toISOString() };
      }
      agents.push(dto);
    }
    agents.sort((a, b) => a.zone.localeCompare(b.zone) || a.name.localeCompare(b.name));
    return {
      id: node.id,
      host: node.host,
      port: node.port,
      role: node.role,
      state: verdict?.state ?? 'unknown',
      since: track ? new Date(track.since).toISOString() : null,
      assigned: verdict?.assigned ?? capacity.assigned,
      voters: verdict?.voters ?? 0,
      sdownVotes: verdict?.sdownVotes ?? 0,
      agents,
    };
  });
  return {
    cluster: cluster.name,
    quorum: cluster.quorum,
    downAfterMs: cluster.downAfterMs,
    canDecide: capacity.canDecide,
    cannotDecideReason: capacity.reason ?? null,
    assignedAgents: capacity.assigned,
    usableAgents: capacity.usable,
    healthyAgents,
    nodes,
  };
}
