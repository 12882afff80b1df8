/**
 * The real processes of a chaos run, each on its lab host: PostgreSQL, two controllers, three probe
 * agents (long-lived, one set per run), and per trial a redis-server group and three Redis Sentinels.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Lab } from '../../libs/chaos/src/lab.js';
import { type ManagedProcess, postgresBinDir, redisServerBinary, waitFor } from '../../libs/testing/src/index.js';

export const ADMIN_TOKEN = 'chaos-admin-token-0123456789';
export const HTTP_PORT = 8080;
export const SENTINEL_PORT = 26379;
export const DNS_PORT = 5353;
export const DNS_ZONE = 'vigil.chaos.';

/** Where each process of a run lives. Zones a, b, c each hold a Redis host, an agent, a sentinel; a and b a controller; c PostgreSQL. */
export const HOSTS = ['r1', 'r2', 'r3', 'a1', 'a2', 'a3', 's1', 's2', 's3', 'c1', 'c2', 'pg', 'app'] as const;
export const ZONES: Record<string, string[]> = {
  a: ['r1', 'a1', 's1', 'c1'],
  b: ['r2', 'a2', 's2', 'c2'],
  c: ['r3', 'a3', 's3', 'pg'],
};
export const REDIS_HOSTS = ['r1', 'r2', 'r3'];
export const AGENT_HOSTS = ['a1', 'a2', 'a3'];
export const SENTINEL_HOSTS = ['s1', 's2', 's3'];
export const CONTROLLER_HOSTS = ['c1', 'c2'];

export interface Address {
  host: string;
  port: number;
}

export interface LabRedis extends Address {
  /** The lab host it runs on (r1 …). */
  labHost: string;
  proc: ManagedProcess;
  signal(sig: NodeJS.Signals): void;
  /** SIGKILL, then the same command line again: with nothing persisted, it comes back empty. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** One redis-server on `labHost`, listening on its lab address. */
export async function startLabRedis(lab: Lab, labHost: string, port: number, replicaOf?: Address, extra: string[] = []): Promise<LabRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-chaos-redis-'));
  const args = ['--port', String(port), '--bind', '0.0.0.0', '--protected-mode', 'no', '--save', '', '--appendonly', 'no', '--dir', dir];
  args.push('--daemonize', 'no', '--logfile', '', '--repl-diskless-sync-delay', '0', ...extra);
  if (replicaOf) args.push('--replicaof', replicaOf.host, String(replicaOf.port));
  const host = lab.ip(labHost);
  const up = () => waitFor(async () => (await redisCall({ host, port }, 'PING')) === 'PONG', 10_000, `redis-server on ${labHost}:${port}`);
  const node: LabRedis = {
    host,
    port,
    labHost,
    proc: lab.spawn(labHost, redisServerBinary(), args),
    signal: (sig) => node.proc.child.kill(sig),
    async restart() {
      node.proc.child.kill('SIGCONT');
      await node.proc.stop('SIGKILL');
      node.proc = lab.spawn(labHost, redisServerBinary(), args);
      await up();
    },
    async stop() {
      node.proc.child.kill('SIGCONT');
      await node.proc.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await up();
  return node;
}

/** A master on r1 with replicas on r2 and r3, in sync. */
export async function startLabGroup(lab: Lab, port: number): Promise<LabRedis[]> {
  const master = await startLabRedis(lab, 'r1', port);
  const group = [master];
  try {
    for (const h of REDIS_HOSTS.slice(1)) group.push(await startLabRedis(lab, h, port, master));
    for (const r of group.slice(1)) {
      await waitFor(async () => /master_link_status:up/.test(String(await redisCall(r, 'INFO', 'replication'))), 15_000, `${r.labHost} in sync`, 100);
    }
  } catch (err) {
    await Promise.all(group.map((r) => r.stop()));
    throw err;
  }
  return group;
}

/** One command on a short connection; undefined when the node does not answer within `timeoutMs`. */
export async function redisCall(at: Address, command: string, ...args: string[]): Promise<unknown> {
  const c = new Redis({
    host: at.host,
    port: at.port,
    lazyConnect: true,
    connectTimeout: 500,
    commandTimeout: 500,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return await c.call(command, ...args);
  } catch {
    return undefined;
  } finally {
    c.disconnect();
  }
}

export interface LabPostgres {
  url(db: string): string;
  proc: ManagedProcess;
  /** Starts it again on the same data directory (after a SIGKILL: crash recovery). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** PostgreSQL on the `pg` host, trusting the lab's subnet, run as the `postgres` user. */
export async function startLabPostgres(lab: Lab): Promise<LabPostgres> {
  const bin = postgresBinDir();
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  const dir = mkdtempSync(join(tmpdir(), 'vigil-chaos-pg-'));
  chownSync(dir, uid, gid);
  execFileSync(join(bin, 'initdb'), ['-D', dir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--locale=C'], {
    stdio: 'pipe',
    cwd: dir,
    uid,
    gid,
  });
  appendFileSync(join(dir, 'pg_hba.conf'), 'host all all 10.77.0.0/24 trust\n');
  const settings = ['listen_addresses=*', 'fsync=off', 'synchronous_commit=off', 'full_page_writes=off', 'max_connections=200', 'shared_buffers=64MB'];
  const start = () =>
    lab.spawn('pg', 'setpriv', [
      '--reuid=postgres',
      '--regid=postgres',
      '--clear-groups',
      join(bin, 'postgres'),
      '-D',
      dir,
      '-p',
      '5432',
      '-k',
      dir,
      ...settings.flatMap((s) => ['-c', s]),
    ]);
  const host = lab.ip('pg');
  const url = (db: string) => `postgres://postgres@${host}:5432/${db}`;
  const ready = () =>
    waitFor(
      async () => {
        const c = new pg.Client({ connectionString: url('postgres'), connectionTimeoutMillis: 1000 });
        try {
          await c.connect();
          await c.query('SELECT 1');
          return true;
        } finally {
          await c.end().catch(() => undefined);
        }
      },
      30_000,
      'postgres in the lab',
      100,
    );
  const server: LabPostgres = {
    url,
    proc: start(),
    async restart() {
      await server.proc.stop('SIGKILL');
      server.proc = start();
      await ready();
    },
    async stop() {
      await server.proc.stop('SIGINT', 10_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await ready();
  return server;
}

/** `node`, or `node` under libfaketime with its clock shifted by `offsetS` seconds. */
export function nodeCommand(offsetS?: number): string[] {
  return offsetS === undefined ? ['node'] : ['faketime', '-f', `${offsetS >= 0 ? '+' : ''}${offsetS}s`, 'node'];
}

/** A controller on `labHost` with the REST API, the Sentinel endpoint and DNS on its lab address. */
export function startLabController(
  lab: Lab,
  labHost: string,
  databaseUrl: string,
  extraEnv: Record<string, string> = {},
  clockOffsetS?: number,
): ManagedProcess {
  const [cmd, ...pre] = nodeCommand(clockOffsetS);
  return lab.spawn(labHost, cmd!, [...pre, 'dist/apps/controller/src/main.js'], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      HTTP_HOST: '0.0.0.0',
      HTTP_PORT: String(HTTP_PORT),
      PUBLISH_HOST: '0.0.0.0',
      SENTINEL_PORT: String(SENTINEL_PORT),
      SENTINEL_ANNOUNCE_IP: lab.ip(labHost),
      DNS_PORT: String(DNS_PORT),
      DNS_ZONE,
      DNS_TTL: '1',
      VIGIL_ADMIN_TOKEN: ADMIN_TOKEN,
      VIGIL_SECRET_KEY: 'c'.repeat(64),
      CONTROLLER_NAME: labHost,
      LOG_LEVEL: process.env['CHAOS_LOG_LEVEL'] ?? 'warn',
      REDIS_ADMIN_TIMEOUT_MS: '500',
      ...extraEnv,
    },
  });
}

/** A probe agent on `labHost` reporting to both controllers. */
export function startLabAgent(lab: Lab, labHost: string, zone: string, token: string, probeIntervalMs: number, clockOffsetS?: number): ManagedProcess {
  const [cmd, ...pre] = nodeCommand(clockOffsetS);
  return lab.spawn(labHost, cmd!, [...pre, 'dist/apps/probe-agent/src/main.js'], {
    env: {
      ...process.env,
      VIGIL_CONTROLLER_URL: CONTROLLER_HOSTS.map((h) => `http://${lab.ip(h)}:${HTTP_PORT}`).join(','),
      VIGIL_AGENT_TOKEN: token,
      VIGIL_AGENT_NAME: `agent-${labHost}`,
      VIGIL_AGENT_ZONE: `zone-${zone}`,
      PROBE_INTERVAL_MS: String(probeIntervalMs),
      LOG_LEVEL: process.env['CHAOS_LOG_LEVEL'] ?? 'warn',
    },
  });
}

export interface LabSentinels {
  addresses: Address[];
  stop(): Promise<void>;
}

/** Three real Redis Sentinels (s1–s3) monitoring `master` as `name`, quorum 2; resolves once they know each other and both replicas. */
export async function startLabSentinels(lab: Lab, master: Address, port: number, name: string, downAfterMs: number): Promise<LabSentinels> {
  const procs: ManagedProcess[] = [];
  const dirs: string[] = [];
  const stop = async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  };
  const addresses = SENTINEL_HOSTS.map((h) => ({ host: lab.ip(h), port }));
  try {
    for (const h of SENTINEL_HOSTS) {
      const dir = mkdtempSync(join(tmpdir(), 'vigil-chaos-sentinel-'));
      dirs.push(dir);
      const conf = join(dir, 'sentinel.conf');
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 0.0.0.0',
          'protected-mode no',
          `dir ${dir}`,
          `sentinel monitor ${name} ${master.host} ${master.port} 2`,
          `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
          `sentinel failover-timeout ${name} 60000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      procs.push(lab.spawn(h, redisServerBinary(), [conf, '--sentinel']));
    }
    await waitFor(
      async () => {
        for (const a of addresses) {
          const flat = (await redisCall(a, 'SENTINEL', 'master', name)) as string[] | undefined;
          if (!Array.isArray(flat)) return false;
          const info = Object.fromEntries(flat.flatMap((_, j) => (j % 2 === 0 ? [[flat[j], flat[j + 1]]] : [])));
          if (Number(info['num-slaves']) !== 2 || Number(info['num-other-sentinels']) !== 2) return false;
        }
        return true;
      },
      60_000,
      'three sentinels that know each other and both replicas',
      200,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { addresses, stop };
}
