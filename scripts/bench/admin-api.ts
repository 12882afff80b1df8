import { type ManagedProcess, startProcess, waitFor } from '../../libs/testing/src/index.js';

/** The admin token the benchmarks start their controller with. */
export const BENCH_ADMIN_TOKEN = 'bench-admin-token-0123456789';

/** One call to a benchmark's controller with the admin token; a non-2xx answer throws with its text. */
export async function api<T = unknown>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Three probe agents (zones a, b, c) reporting to `base`, as real processes. */
export function startBenchAgents(base: string, token: string, probeIntervalMs: number, nodeArgs: string[] = []): ManagedProcess[] {
  return ['a', 'b', 'c'].map((z) =>
    startProcess('node', [...nodeArgs, 'dist/apps/probe-agent/src/main.js'], {
      env: {
        ...process.env,
        VIGIL_CONTROLLER_URL: base,
        VIGIL_AGENT_TOKEN: token,
        VIGIL_AGENT_NAME: `bench-${z}`,
        VIGIL_AGENT_ZONE: `zone-${z}`,
        PROBE_INTERVAL_MS: String(probeIntervalMs),
        LOG_LEVEL: 'warn',
      },
    }),
  );
}

/** Waits until every node of `name` is up with `agents` voting agents (a trial starts only then). */
export async function watchedByAgents(base: string, name: string, agents = 3): Promise<void> {
  await waitFor(
    async () => {
      const h = await api<{ nodes: { state: string; voters: number }[] }>(base, 'GET', `/api/v1/clusters/${name}/health`);
      return h.nodes.every((x) => x.state === 'up' && x.voters === agents);
    },
    30_000,
    `${name} watched by ${agents} agents`,
    50,
  );
}
