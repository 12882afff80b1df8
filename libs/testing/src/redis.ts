import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { redisServerBinary } from './binaries.js';
import { freePort, waitFor } from './ports.js';
import { type ManagedProcess, startProcess } from './processes.js';
import type { TestCertificates } from './tls.js';

export interface RedisServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly process: ManagedProcess;
  /** A new ioredis client to this server (the caller closes it). */
  client(): Redis;
  /** Runs one command on a short-lived connection and answers its reply. */
  call(command: string, ...args: string[]): Promise<unknown>;
  /** `ROLE`: `['master', …]` or `['slave', host, port, state, offset]`. */
  role(): Promise<unknown[]>;
  /** Sends a signal without waiting (SIGKILL to crash, SIGSTOP/SIGCONT to hang and resume). */
  signal(sig: NodeJS.Signals): void;
  stop(): Promise<void>;
}

export interface StartRedisOptions {
  port?: number;
  /** Start as a replica of this address. */
  replicaOf?: { host: string; port: number };
  /** `requirepass` for the default user. */
  password?: string;
  /** Extra redis-server arguments (`['--hz', '1']`). */
  args?: string[];
  /** Serve TLS only (no plain port) with this certificate; clients need not present one. */
  tls?: TestCertificates;
}

/** Starts a real redis-server on 127.0.0.1 with nothing persisted, and waits until it answers PING. */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'vigil-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--logfile',
    '',
    '--repl-diskless-sync-delay',
    '0',
  ];
  if (options.replicaOf) args.push('--replicaof', options.replicaOf.host, String(options.replicaOf.port));
  if (options.password) args.push('--requirepass', options.password, '--masterauth', options.password);
  if (options.tls) {
    args[1] = '0';
    args.push('--tls-port', String(port), '--tls-cert-file', options.tls.certFile, '--tls-key-file', options.tls.keyFile);
    args.push('--tls-ca-cert-file', options.tls.caFile, '--tls-auth-clients', 'no', '--tls-replication', 'yes');
  }
  args.push(...(options.args ?? []));
  const proc = startProcess(redisServerBinary(), args);
  const client = () =>
    new Redis({
      host: '127.0.0.1',
      port,
      password: options.password,
      tls: options.tls ? { ca: readFileSync(options.tls.caFile) } : undefined,
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
    });
  await waitFor(
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`redis-server exited: ${proc.output().slice(-2000)}`);
      const c = client();
      c.on('error', () => undefined);
      try {
        await c.connect();
        return (await c.ping()) === 'PONG';
      } finally {
        c.disconnect();
      }
    },
    10_000,
    `redis-server on port ${port}`,
  );
  const call = async (command: string, ...rest: string[]): Promise<unknown> => {
    const c = client();
    c.on('error', () => undefined);
    try {
      await c.connect();
      return await c.call(command, ...rest);
    } finally {
      c.disconnect();
    }
  };
  return {
    host: '127.0.0.1',
    port,
    process: proc,
    client,
    call,
    role: async () => (await call('ROLE')) as unknown[],
    signal: (sig) => proc.child.kill(sig),
    async stop() {
      proc.child.kill('SIGCONT');
      await proc.stop('SIGTERM', 3000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A master with `replicas` replicas attached and in sync (`master_link_status:up`). */
export async function startReplicationGroup(
  replicas: number,
  options: Omit<StartRedisOptions, 'replicaOf'> & { ports?: number[] } = {},
): Promise<RedisServer[]> {
  const master = await startRedis({ ...options, port: options.ports?.[0] });
  const group = [master];
  try {
    for (let i = 0; i < replicas; i++) {
      group.push(await startRedis({ ...options, port: options.ports?.[i + 1], replicaOf: { host: master.host, port: master.port } }));
    }
    for (const replica of group.slice(1)) {
      await waitFor(
        async () => {
          const c = replica.client();
          c.on('error', () => undefined);
          try {
            await c.connect();
            return /master_link_status:up/.test(await c.info('replication'));
          } finally {
            c.disconnect();
          }
        },
        15_000,
        `replica ${replica.port} to sync`,
        100,
      );
    }
  } catch (err) {
    await Promise.all(group.map((s) => s.stop()));
    throw err;
  }
  return group;
}
