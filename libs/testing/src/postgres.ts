import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { postgresBinDir } from './binaries.js';
import { freePort, waitFor } from './ports.js';
import { type ManagedProcess, startProcess } from './processes.js';

export interface PostgresServer {
  /** URL of the `postgres` database, for administrative statements. */
  readonly adminUrl: string;
  readonly port: number;
  /** URL of database `name` on this server. */
  url(name: string): string;
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Keep the cluster here (created when missing); default: a temp dir removed on stop. */
  dataDir?: string;
  port?: number;
}

/** PostgreSQL refuses to run as root: as root, its programs run as the `postgres` user. */
function ensurePostgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    return ensurePostgresUser();
  }
}

/**
 * Starts a real PostgreSQL server from the system's binaries: a fresh cluster (initdb, trust auth on
 * 127.0.0.1 only) in a temp dir, or a kept one in `dataDir`. Durability settings are relaxed: this is
 * for tests and the local demo, never for production data.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const owner = ensurePostgresUser();
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'vigil-pg-'));
  mkdirSync(dataDir, { recursive: true });
  if (owner) chownSync(dataDir, owner.uid, owner.gid);
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    execFileSync(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--locale=C'], {
      stdio: 'pipe',
      cwd: dataDir,
      ...owner,
    });
  }
  const port = options.port ?? (await freePort());
  const proc: ManagedProcess = startProcess(
    join(bin, 'postgres'),
    [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-k',
      dataDir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=300',
      '-c',
      'shared_buffers=64MB',
    ],
    { cwd: dataDir, ...owner },
  );
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  try {
    await waitFor(
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`postgres exited: ${proc.output().slice(-2000)}`);
        const client = new pg.Client({ connectionString: adminUrl });
        try {
          await client.connect();
          await client.query('SELECT 1');
          return true;
        } finally {
          await client.end().catch(() => undefined);
        }
      },
      30_000,
      'postgres to accept connections',
      100,
    );
  } catch (err) {
    await proc.stop('SIGKILL');
    throw err;
  }
  return {
    adminUrl,
    port,
    url: (name: string) => `postgres://postgres@127.0.0.1:${port}/${name}`,
    async stop() {
      await proc.stop('SIGINT', 10_000); // "fast" shutdown
      if (temporary) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Creates a fresh, empty database on the server behind `adminUrl` and returns its URL. */
export async function createDatabase(adminUrl: string, prefix = 'vigil_test'): Promise<string> {
  const name = `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
