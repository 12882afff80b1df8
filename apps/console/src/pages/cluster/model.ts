import type { Schemas } from '../../api/client';

type Cluster = Schemas['ClusterDto'];
type Health = Schemas['ClusterHealthDto'];
type Replication = Schemas['ReplicationViewDto'];

/** One node as the topology view draws it: settings, detection state and the freshest reading. */
export interface TopologyNode {
  id: string;
  address: string;
  role: string;
  priority: number;
  zone: string | null;
  state: string;
  reading: Replication | null;
  lagBytes: number | null;
  lagS: number | null;
  flags: string[];
}

/** The freshest replication reading any agent has of a node. */
function freshest(views: Schemas['AgentNodeViewDto'][]): Replication | null {
  let best: Replication | null = null;
  for (const v of views) {
    const r = v.replication as Replication | undefined;
    if (r && (!best || Date.parse(r.readAt) > Date.parse(best.readAt))) best = r;
  }
  return best;
}

/** Joins the cluster's settings with the health view into what the topology needs. */
export function topology(cluster: Cluster, health: Health | undefined): { master: TopologyNode | null; others: TopologyNode[]; zones: string[] } {
  const byId = new Map((health?.nodes ?? []).map((n) => [n.id, n]));
  const masterAddr = cluster.master ? `${cluster.master.host}:${cluster.master.port}` : null;
  const nodes = cluster.nodes.map((n): TopologyNode => {
    const h = byId.get(n.id);
    const address = `${n.host}:${n.port}`;
    const reading = h ? freshest(h.agents) : null;
    const flags: string[] = [];
    const state = h?.state ?? 'unknown';
    if (state !== 'up') flags.push(state === 'sdown' ? 'subjectively down' : state === 'odown' ? 'objectively down' : state);
    if (n.role === 'unknown') flags.push('role unknown');
    if (reading?.role === 'master' && address !== masterAddr) flags.push('claims to be master: demotion pending');
    if (reading?.role === 'replica' && masterAddr && `${reading.masterHost}:${reading.masterPort}` !== masterAddr)
      flags.push(`follows ${reading.masterHost}:${reading.masterPort}, not the master`);
    if (address === masterAddr && reading?.role === 'replica') flags.push('recorded master reports itself a replica');
    if (reading?.role === 'replica' && reading.linkUp === false)
      flags.push(`link down${reading.linkDownSinceS !== undefined ? ` ${reading.linkDownSinceS} s` : ''}`);
    if (h && h.agents.length > 0 && h.agents.every((a) => a.stale)) flags.push('stale: no agent reports');
    if (n.priority === 0) flags.push('never promoted (priority 0)');
    return { id: n.id, address, role: n.role, priority: n.priority, zone: n.zone ?? null, state, reading, lagBytes: null, lagS: null, flags };
  });
  const master = nodes.find((n) => n.address === masterAddr) ?? null;
  const masterOffset = master?.reading?.role === 'master' ? master.reading.offset : null;
  for (const n of nodes) {
    if (n === master || n.reading?.role !== 'replica') continue;
    if (masterOffset !== null) n.lagBytes = Math.max(0, masterOffset - n.reading.offset);
    if (n.reading.lastIoS !== undefined && n.reading.lastIoS >= 0) n.lagS = n.reading.lastIoS;
  }
  const zones = [...new Set(nodes.map((n) => n.zone).concat((health?.nodes ?? []).flatMap((n) => n.agents.map((a) => a.zone))))]
    .filter((z): z is string => !!z)
    .sort();
  return { master, others: nodes.filter((n) => n !== master), zones };
}

/** Failover phases in order, from the step names the runner records. */
export const PHASES: { name: string; from: string[]; to: string[] }[] = [
  { name: 'detect', from: ['fault_seen'], to: ['odown'] },
  { name: 'decide', from: ['odown'], to: ['decided'] },
  { name: 'promote', from: ['decided'], to: ['promoted'] },
  { name: 'publish', from: ['promoted'], to: ['published'] },
  { name: 'DNS', from: ['published'], to: ['dns_updated', 'dns_published'] },
  { name: 're-point', from: ['published'], to: ['replicas_repointed'] },
];

export interface PhaseSpan {
  name: string;
  ms: number;
}

/** The time spent in each phase, from the first step of a phase's start to its end. */
export function phaseSpans(steps: { name: string; at: string }[]): PhaseSpan[] {
  const first = new Map<string, number>();
  for (const s of steps) if (!first.has(s.name)) first.set(s.name, Date.parse(s.at));
  const out: PhaseSpan[] = [];
  for (const p of PHASES) {
    const start = p.from.map((n) => first.get(n)).find((t) => t !== undefined);
    const end = p.to.map((n) => first.get(n)).find((t) => t !== undefined);
    if (start !== undefined && end !== undefined && end >= start) out.push({ name: p.name, ms: end - start });
  }
  return out;
}
