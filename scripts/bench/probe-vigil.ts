import { inBatches, startBenchController } from './controller.js';
import { createDatabase, freePort, type ManagedProcess, startProcess, waitFor } from '../../libs/testing/src/index.js';
import { api } from './admin-api.js';
import { metric } from './metrics.js';

/**
 * Vigil as `bench:probe` runs it: one controller (a real process on its own database) and one probe agent
 * watching every node, both real processes.
 */
export interface VigilUnderTest {
  base: string;
  controller: ManagedProcess;
  agent: ManagedProcess;
  agentName: string;
  /** The agent's own health and metrics endpoint. */
  agentBase: string;
  clusters: string[];
  nodes: number;
  stop(): Promise<void>;
}

export interface VigilOptions {
  adminUrl: string;
  /** Each cluster's nodes (ports on 127.0.0.1), master first. */
  groups: number[][];
  intervalMs: number;
  downAfterMs: number;
  /** Node options for the agent (`--cpu-prof`, …). */
  agentNodeArgs?: string[];
  log?: (line: string) => void;
}

/**
 * A fresh database, a controller on it, one cluster per group (quorum 1, no automatic failover: cost is
 * measured here, not decisions) created through the REST API, and one agent. Resolves once the controller
 * sees every node up through the agent's reports.
 */
export async function startVigil(o: VigilOptions): Promise<VigilUnderTest> {
  const log = o.log ?? console.log;
  const procs: ManagedProcess[] = [];
  const stop = async () => {
    await Promise.all(procs.splice(0).map((p) => p.stop('SIGTERM', 10_000)));
  };
  try {
    const databaseUrl = await createDatabase(o.adminUrl, 'vigil_bench_probe');
    const { base, proc: controller } = await startBenchController({ databaseUrl, name: 'bench-probe' });
    procs.push(controller);
    const t0 = Date.now();
    const clusters: string[] = [];
    await inBatches(o.groups, 8, async (group) => {
      const name = `c${group[0]!}`;
      await api(base, 'POST', '/api/v1/clusters', {
        name,
        nodes: group.map((port) => ({ host: '127.0.0.1', port })),
        quorum: 1,
        downAfterMs: o.downAfterMs,
        autoFailover: false,
      });
      clusters.push(name);
      if (clusters.length % 250 === 0) log(`  ${clusters.length} clusters created`);
    });
    const nodes = o.groups.reduce((n, g) => n + g.length, 0);
    log(`${clusters.length} clusters (${nodes} nodes) created through the REST API in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const token = (await api<{ token: string }>(base, 'POST', '/api/v1/tokens', { name: 'bench-probe-agent', role: 'agent' })).token;
    const agentName = 'probe-a';
    const agentPort = await freePort();
    const agent = startProcess('node', [...(o.agentNodeArgs ?? []), 'dist/apps/probe-agent/src/main.js'], {
      env: {
        ...process.env,
        VIGIL_CONTROLLER_URL: base,
        VIGIL_AGENT_TOKEN: token,
        VIGIL_AGENT_NAME: agentName,
        VIGIL_AGENT_ZONE: 'zone-a',
        PROBE_INTERVAL_MS: String(o.intervalMs),
        AGENT_HTTP_PORT: String(agentPort),
        AGENT_HTTP_HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
      },
    });
    procs.push(agent);
    const t1 = Date.now();
    await waitFor(
      async () => {
        if (agent.child.exitCode !== null) throw new Error(`agent exited: ${agent.output().slice(-2000)}`);
        return (await metric(base, 'vigil_detection_nodes', { state: 'up' })) === nodes;
      },
      180_000,
      `all ${nodes} nodes up through the agent`,
      500,
    );
    log(`agent sees all ${nodes} nodes up (${((Date.now() - t1) / 1000).toFixed(1)} s after its start)`);
    return { base, controller, agent, agentName, agentBase: `http://127.0.0.1:${agentPort}`, clusters, nodes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** How many nodes the agent's latest report has `ok`, read cluster by cluster from `GET /clusters/{name}/health`. */
export async function agentCensus(v: VigilUnderTest): Promise<{ nodes: number; ok: number; notOk: string[] }> {
  const census = { nodes: 0, ok: 0, notOk: [] as string[] };
  await inBatches(v.clusters, 8, async (name) => {
    const h = await api<{ nodes: { port: number; state: string; agents: { name: string; status: string; error?: string }[] }[] }>(
      v.base,
      'GET',
      `/api/v1/clusters/${name}/health`,
    );
    for (const n of h.nodes) {
      census.nodes++;
      const view = n.agents.find((a) => a.name === v.agentName);
      if (view?.status === 'ok' && n.state === 'up') census.ok++;
      else if (census.notOk.length < 5) census.notOk.push(`${n.port}: ${n.state}, agent ${view?.status ?? 'none'} ${view?.error ?? ''}`.trim());
    }
  });
  return census;
}

/** Node states the agent has put in its reports so far (one per node per tick): its probing rate, stalls included. */
export async function reportedProbes(v: VigilUnderTest): Promise<number> {
  const text = await (await fetch(`${v.agentBase}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^vigil_agent_probe_results_total\{[^}]*\} (\S+)$/gm)) n += Number(m[1]);
  return n;
}

/** The controller's count of node state transitions so far (every state). */
export async function transitions(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^vigil_detection_transitions_total\{[^}]*\} (\S+)$/gm)) n += Number(m[1]);
  return n;
}
