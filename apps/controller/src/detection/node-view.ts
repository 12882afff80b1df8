import type { AgentView, DetectionEngine, NodeState, Vote } from './detection-engine.js';

/**
 * What detection publishes about one node: the verdict with its vote counts, and what the agents'
 * latest reports say of it. Publishers (Sentinel endpoint, failsafe) and the failover engine read this,
 * never the engine's agent tracks.
 */
export interface NodeView {
  state: NodeState;
  /** When the state began (this controller's clock), if a state was ever decided. */
  since: number | null;
  /** Agents assigned to the cluster, voting or not (the denominator of the ODOWN majority). */
  assigned: number;
  voters: number;
  sdownVotes: number;
  faultVotes: number;
  /** Each voting agent's vote now (its zone, whether it sees the node down). */
  votes: Vote[];
  /** The newest valid reply any agent had from the node. */
  lastOkAt: number | null;
  /** The freshest `INFO replication` any healthy agent read from it. */
  repl: AgentView['repl'] | null;
  /** Healthy agents whose latest reading has the node claim master. */
  claimedMasterBy: number;
}

export function nodeView(engine: DetectionEngine, nodeId: string, now: number): NodeView {
  const verdict = engine.verdict(nodeId, now);
  const track = engine.nodes.get(nodeId);
  let lastOkAt: number | null = null;
  let repl: AgentView['repl'] | null = null;
  let claimedMasterBy = 0;
  for (const agent of engine.agents.values()) {
    const view = agent.views.get(nodeId);
    if (!view) continue;
    if (view.okAt > 0 && (lastOkAt === null || view.okAt > lastOkAt)) lastOkAt = view.okAt;
    if (agent.stale || !view.repl) continue;
    if (view.repl.role === 'master') claimedMasterBy++;
    if (!repl || view.repl.readAt > repl.readAt) repl = view.repl;
  }
  return {
    state: verdict?.state ?? 'unknown',
    since: track?.since ?? null,
    assigned: verdict?.assigned ?? 0,
    voters: verdict?.voters ?? 0,
    sdownVotes: verdict?.sdownVotes ?? 0,
    faultVotes: verdict?.faultVotes ?? 0,
    votes: verdict?.votes ?? [],
    lastOkAt,
    repl,
    claimedMasterBy,
  };
}
