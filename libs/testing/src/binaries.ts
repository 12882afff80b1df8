import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Thrown when a required program is missing; the message says exactly what to install. */
export class MissingBinaryError extends Error {}

function onPath(name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Directory holding PostgreSQL's server programs (initdb, postgres), newest version first. */
export function postgresBinDir(): string {
  const fromEnv = process.env['PG_BINDIR'];
  if (fromEnv && existsSync(join(fromEnv, 'initdb'))) return fromEnv;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], 'bin');
  }
  const initdb = onPath('initdb');
  if (initdb) return initdb.replace(/\/initdb$/, '');
  throw new MissingBinaryError('PostgreSQL server binaries not found: install them with `apt-get install -y postgresql` (or set PG_BINDIR)');
}

/** Path of redis-server. */
export function redisServerBinary(): string {
  const path = process.env['REDIS_SERVER_BIN'] ?? onPath('redis-server');
  if (!path) throw new MissingBinaryError('redis-server not found: install it with `apt-get install -y redis-server` (or set REDIS_SERVER_BIN)');
  return path;
}
