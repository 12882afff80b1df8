import { createServer, type Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import {
  createDatabase,
  freePort,
  type ManagedProcess,
  type PostgresServer,
  type RedisServer,
  startPostgres,
  startReplicationGroup,
  waitFor,
} from '../../libs/testing/src/index.js';
import { api, BENCH_ADMIN_TOKEN } from '../bench/admin-api.js';
import { metric } from '../bench/metrics.js';
import { nextMessage, startNodeChild } from '../bench/processes.js';
import type { SoakOptions } from './options.js';
import { Slot } from './slots.js';

/**
 * Everything the soak runs: its own PostgreSQL, the node farm (farm clusters), small real redis-server
 * groups (where Redis faults happen), two controllers, three agents (zones a/b/c, each reporting to
 * both controllers), and a webhook receiver subscribed to every event.
 */
export interface SoakStack {
  pg: PostgresServer;
  databaseUrl: string;
  /** The soak's own connection (sampling, event counts, connection churn), application_name vigil-soak. */
  db: pg.Client;
  farm: ManagedProcess;
  farmGroups: number[][];
  controllers: Slot[];
  bases: string[];
  agents: Slot[];
  /** Real groups by cluster name; each port's current redis-server. */
  real: Map<string, Map<number, RedisServer>>;
  webhookDeliveries: () => number;
  cleanups: (() => Promise<unknown> | void)[];
}

/** Every cluster's down-after (required at creation; Sentinel's default is 30 s, 5 s is a common production choice). */
export const DOWN_AFTER_MS = 5000;

export const farmClusterName = (masterPort: number) => `farm-${masterPort}`;
export const realClusterName = (i: number) => `real-${i + 1}`;

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

export async function controllerReady(base: string): Promise<boolean> {
  return (await fetch(`${base}/health/ready`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined))?.ok === true;
}

/** Index of the controller holding the lease, per each one's `vigil_leader` gauge; -1 when none. */
export async function leaderIndex(bases: string[]): Promise<number> {
  const flags = await Promise.all(bases.map((b) => metric(b, 'vigil_leader').catch(() => undefined)));
  return flags.findIndex((f) => f === 1);
}

export async function startStack(o: SoakOptions, log: (line: string) => void): Promise<SoakStack> {
  const cleanups: SoakStack['cleanups'] = [];
  const stack = { cleanups } as SoakStack;
  try {
    stack.pg = await startPostgres();
    cleanups.push(() => stack.pg.stop());
    stack.databaseUrl = await createDatabase(stack.pg.adminUrl, 'vigil_soak');
    const url = new URL(stack.databaseUrl);
    url.searchParams.set('application_name', 'vigil-soak');
    stack.db = new pg.Client({ connectionString: url.toString() });
    await stack.db.connect();
    cleanups.push(() => stack.db.end());
    log(`PostgreSQL on port ${stack.pg.port}, database ${url.pathname.slice(1)}`);

    stack.farm = startNodeChild('dist/scripts/bench/node-farm-process.js', [String(o.clusters), '2']);
    cleanups.push(() => stack.farm.stop('SIGTERM', 2000));
    stack.farmGroups = (await nextMessage<{ groups: number[][] }>(stack.farm, 'ready')).groups;
    log(`node farm: ${stack.farmGroups.length * 3} nodes in process ${stack.farm.child.pid}`);

    stack.real = new Map();
    cleanups.push(() => Promise.all([...stack.real.values()].flatMap((g) => [...g.values()].map((s) => s.stop()))));
    for (let i = 0; i < o.realGroups; i++) {
      const group = await startReplicationGroup(2);
      stack.real.set(realClusterName(i), new Map(group.map((s) => [s.port, s])));
    }
    log(`${o.realGroups} real redis-server group(s) of 3`);

    let delivered = 0;
    const hook: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        delivered++;
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => hook.close(resolve)));
    stack.webhookDeliveries = () => delivered;

    const controllerEnv = (i: number, port: number): NodeJS.ProcessEnv => ({
      ...process.env,
      DATABASE_URL: stack.databaseUrl,
      HTTP_PORT: String(port),
      HTTP_HOST: '127.0.0.1',
      VIGIL_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
      VIGIL_SECRET_KEY: 'd'.repeat(64),
      CONTROLLER_NAME: `soak-${i + 1}`,
      LOG_LEVEL: 'warn',
      WEBHOOK_ALLOW_PRIVATE: 'true',
    });
    stack.controllers = [];
    stack.bases = [];
    cleanups.push(() => Promise.all(stack.controllers.map((c) => c.close())));
    // One at a time: the first runs the migrations and seeds the admin token (two replicas starting at
    // once on an empty database race on that seed: one exits with a unique violation). On a shared
    // machine another program may take the free port before the controller listens: then another port.
    for (let i = 0; i < 2; i++) {
      for (let attempt = 1; ; attempt++) {
        const port = await freePort();
        const c = new Slot(`controller-${i + 1}`, ['dist/apps/controller/src/main.js'], controllerEnv(i, port), o.resultsDir);
        const base = `http://127.0.0.1:${port}`;
        const deadline = Date.now() + 180_000;
        while (c.running && !(await controllerReady(base)) && Date.now() < deadline) await sleep(250);
        if (c.running && (await controllerReady(base))) {
          stack.controllers.push(c);
          stack.bases.push(base);
          break;
        }
        await c.close();
        if (attempt === 3 || !c.proc.output().includes('EADDRINUSE')) throw new Error(`${c.name} did not start: ${c.proc.output().slice(-2000)}`);
        log(`${c.name}: port ${port} taken meanwhile, trying another`);
      }
    }
    const base = stack.bases[0]!;
    log(`controllers ready: ${stack.bases.join(', ')}`);

    const t = Date.now();
    await inBatches(stack.farmGroups, 8, async (group) => {
      await api(base, 'POST', '/api/v1/clusters', {
        name: farmClusterName(group[0]!),
        nodes: group.map((port) => ({ host: '127.0.0.1', port })),
        quorum: 2,
        downAfterMs: DOWN_AFTER_MS,
      });
    });
    for (const [name, group] of stack.real) {
      await api(base, 'POST', '/api/v1/clusters', {
        name,
        nodes: [...group.keys()].map((port) => ({ host: '127.0.0.1', port })),
        quorum: 2,
        downAfterMs: DOWN_AFTER_MS,
        // Below the default so the rotation may fail the same group over again within the soak.
        cooldownMs: 30_000,
      });
    }
    log(`${stack.farmGroups.length} farm + ${stack.real.size} real clusters created (${((Date.now() - t) / 1000).toFixed(1)} s)`);
    await api(base, 'POST', '/api/v1/webhooks', { url: `http://127.0.0.1:${(hook.address() as { port: number }).port}/vigil` });

    const token = (await api<{ token: string }>(base, 'POST', '/api/v1/tokens', { name: 'soak-agents', role: 'agent' })).token;
    stack.agents = ['a', 'b', 'c'].map(
      (z) =>
        new Slot(
          `agent-${z}`,
          ['dist/apps/probe-agent/src/main.js'],
          {
            ...process.env,
            VIGIL_CONTROLLER_URL: stack.bases.join(','),
            VIGIL_AGENT_TOKEN: token,
            VIGIL_AGENT_NAME: `soak-${z}`,
            VIGIL_AGENT_ZONE: `zone-${z}`,
            LOG_LEVEL: 'warn',
          },
          o.resultsDir,
        ),
    );
    cleanups.push(() => Promise.all(stack.agents.map((a) => a.close())));
    const nodes = (stack.farmGroups.length + stack.real.size) * 3;
    // On a busy shared machine this can take minutes: progress is logged every 30 s.
    let lastLog = Date.now();
    await waitFor(
      async () => {
        const up = await Promise.all(stack.bases.map((b) => metric(b, 'vigil_detection_nodes', { state: 'up' }).catch(() => undefined)));
        if (Date.now() - lastLog > 30_000) {
          lastLog = Date.now();
          log(`nodes up: ${up.map((u) => u ?? '?').join(' / ')} of ${nodes}`);
        }
        return up.every((u) => u === nodes);
      },
      900_000,
      `all ${nodes} nodes up on both controllers`,
      1000,
    );
    log(`all ${nodes} nodes up on both controllers`);
    return stack;
  } catch (err) {
    await runCleanups(cleanups);
    throw err;
  }
}

export async function runCleanups(cleanups: SoakStack['cleanups']): Promise<void> {
  for (const step of cleanups.splice(0).reverse()) {
    await Promise.race([Promise.resolve().then(step), new Promise((r) => setTimeout(r, 20_000))]).catch((err: unknown) =>
      console.error(`cleanup: ${String(err)}`),
    );
  }
}
