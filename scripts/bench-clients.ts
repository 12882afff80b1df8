/**
 * `npm run bench:clients`: each Sentinel client's write outage after a master crash, through Vigil's
 * Sentinel-compatible endpoint and through three real Redis Sentinels watching an identical group, in one
 * run. BENCH_TRIALS (3) trials per system, alternating; in each, every client of the matrix (node-redis 4,
 * 5, 6, ioredis 4, 5, 6, redis-py) writes at once with its default options, then the master is SIGKILLed.
 * Writes BENCHMARKS.md's `clients` section.
 */
import os from 'node:os';
import { createDatabase, freePort, type ManagedProcess, type PostgresServer, startPostgres, startProcess, waitFor } from '../libs/testing/src/index.js';
import { SENTINEL_CLIENTS } from '../libs/testing/src/sentinel-writers.js';
import { api, BENCH_ADMIN_TOKEN, startBenchAgents } from './bench/admin-api.js';
import { renderClientTable } from './bench/clients-report.js';
import { type ClientTrial, sentinelTrial, vigilTrial } from './bench/clients-trial.js';
import { writeBenchmarkSection } from './bench/report.js';

const TRIALS = Number(process.env['BENCH_TRIALS'] ?? 3);
const DOWN_AFTER_MS = 1000;
const PROBE_INTERVAL_MS = 100;

async function main(): Promise<void> {
  const procs: ManagedProcess[] = [];
  let pg: PostgresServer | undefined;
  const trials: ClientTrial[] = [];
  try {
    pg = await startPostgres();
    const databaseUrl = await createDatabase(pg.adminUrl, 'vigil_bench_clients');
    const port = await freePort();
    const sentinelPort = await freePort();
    const base = `http://127.0.0.1:${port}`;
    procs.push(
      startProcess('node', ['dist/apps/controller/src/main.js'], {
        env: {
          ...process.env,
          DATABASE_URL: databaseUrl,
          HTTP_PORT: String(port),
          HTTP_HOST: '127.0.0.1',
          SENTINEL_PORT: String(sentinelPort),
          SENTINEL_ANNOUNCE_IP: '127.0.0.1',
          PUBLISH_HOST: '127.0.0.1',
          VIGIL_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
          VIGIL_SECRET_KEY: 'c'.repeat(64),
          CONTROLLER_NAME: 'bench',
          LOG_LEVEL: 'warn',
          REDIS_ADMIN_TIMEOUT_MS: '500',
        },
      }),
    );
    await waitFor(async () => (await fetch(`${base}/health/ready`).catch(() => undefined))?.ok, 60_000, 'controller ready');
    const token = (await api<{ token: string }>(base, 'POST', '/api/v1/tokens', { name: 'bench-agents', role: 'agent' })).token;
    procs.push(...startBenchAgents(base, token, PROBE_INTERVAL_MS));
    for (let n = 0; n < TRIALS; n++) {
      for (const system of ['vigil', 'sentinel'] as const) {
        const t = system === 'vigil' ? await vigilTrial(base, sentinelPort, `clients-${n}`, DOWN_AFTER_MS) : await sentinelTrial(DOWN_AFTER_MS);
        trials.push(t);
        console.log(`${system.padEnd(8)} trial ${n + 1}: ${t.outages.map((o) => `${o.client} ${o.outageMs ?? 'stuck'}`).join(', ')}`);
      }
    }
    writeBenchmarkSection(
      'clients',
      renderClientTable(trials, SENTINEL_CLIENTS, {
        when: new Date().toISOString(),
        machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'} (1-minute load average ${os.loadavg()[0]!.toFixed(1)} at the end)`,
        node: process.version,
        trials: TRIALS,
        downAfterMs: DOWN_AFTER_MS,
        probeIntervalMs: PROBE_INTERVAL_MS,
      }),
    );
    console.log('BENCHMARKS.md updated');
  } finally {
    await Promise.all(procs.map((p) => p.stop('SIGTERM', 5000)));
    await pg?.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
