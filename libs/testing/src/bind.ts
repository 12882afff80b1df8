import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MissingBinaryError } from './binaries.js';
import { freePort, waitFor } from './ports.js';
import { type ManagedProcess, startProcess } from './processes.js';

const run = promisify(execFile);

export interface BindKey {
  /** Key name, e.g. `vigil-key` (a trailing dot is optional). */
  readonly name: string;
  /** Base64 HMAC-SHA256 secret, as in a BIND `key` statement. */
  readonly secret: string;
}

export interface StartBindOptions {
  /** The one primary zone served, e.g. `redis.test.`. */
  readonly zone: string;
  /** TSIG keys; each may update any name in the zone. Unsigned updates are refused. */
  readonly keys: readonly BindKey[];
  /** Extra zone-file lines, relative to the zone (`primary 60 IN A 10.0.0.1`) or absolute. */
  readonly records?: readonly string[];
  readonly port?: number;
}

export interface BindServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The zone, absolute (with its trailing dot). */
  readonly zone: string;
  readonly process: ManagedProcess;
  /** Asks the server with `dig +short` over TCP, independently of our own client. */
  dig(name: string, type: string): Promise<string[]>;
  /** The whole `dig` answer section (with TTLs). */
  digFull(name: string, type: string): Promise<string>;
  /**
   * Writes records (zone-file lines with absolute names and a TTL) with `nsupdate`, signed with the
   * first key; with `replace`, each record's RRset is deleted first.
   */
  addRecords(records: string[], replace?: boolean): Promise<void>;
  stop(): Promise<void>;
}

const NAMED = process.env['NAMED_BIN'] ?? '/usr/sbin/named';
const DIG = process.env['DIG_BIN'] ?? 'dig';
const NSUPDATE = process.env['NSUPDATE_BIN'] ?? 'nsupdate';

/** Runs a command with `input` on its stdin; rejects with its stderr when it fails. */
function runWithInput(cmd: string, args: string[], input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, (err, _stdout, stderr) => (err ? reject(new Error(`${cmd} failed: ${stderr || err.message}`)) : resolve()));
    child.stdin?.end(input);
  });
}

function absolute(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

/**
 * named.conf for a throwaway server: everything it writes stays in `dir`, nothing is shared with a
 * system named or another test server (no rndc control channel, own pid/lock/session files).
 */
export function namedConf(dir: string, port: number, zone: string, keys: readonly BindKey[] = []): string {
  const keyStatements = keys.map((k) => `key "${absolute(k.name)}" { algorithm hmac-sha256; secret "${k.secret}"; };`);
  const grants = keys.map((k) => `    grant "${absolute(k.name)}" zonesub ANY;`);
  return [
    'options {',
    `  directory "${dir}";`,
    `  pid-file "${join(dir, 'named.pid')}";`,
    `  lock-file "${join(dir, 'named.lock')}";`,
    `  session-keyfile "${join(dir, 'session.key')}";`,
    `  managed-keys-directory "${dir}";`,
    `  dump-file "${join(dir, 'cache_dump.db')}";`,
    `  statistics-file "${join(dir, 'named.stats')}";`,
    `  listen-on port ${port} { 127.0.0.1; };`,
    '  listen-on-v6 { none; };',
    '  recursion no;',
    '  dnssec-validation no;',
    '  notify no;',
    '  automatic-interface-scan no;',
    '};',
    'controls { };',
    ...keyStatements,
    `zone "${zone}" {`,
    '  type primary;',
    `  file "${join(dir, 'zone.db')}";`,
    `  journal "${join(dir, 'zone.db.jnl')}";`,
    // With no grants (no keys) nothing may be updated: an empty update-policy is a syntax error.
    grants.length > 0 ? `  update-policy {\n${grants.join('\n')}\n  };` : '  allow-update { none; };',
    '};',
    '',
  ].join('\n');
}

function zoneFile(zone: string, records: readonly string[]): string {
  return [
    `$ORIGIN ${zone}`,
    '$TTL 60',
    `@ IN SOA ns.${zone} hostmaster.${zone} 1 3600 600 86400 60`,
    `@ IN NS ns.${zone}`,
    'ns IN A 127.0.0.1',
    ...records,
    '',
  ].join('\n');
}

async function dig(port: number, name: string, type: string): Promise<string[]> {
  const { stdout } = await run(DIG, ['+tcp', '+short', '+tries=1', '+time=2', '@127.0.0.1', '-p', String(port), name, type]);
  return stdout.split('\n').filter((line) => line.trim() !== '');
}

/**
 * Starts a real BIND9 `named` serving `zone` as a primary with dynamic updates allowed for `keys`,
 * on a free loopback port, and waits until it answers. It runs in the foreground (`-g`: logs to
 * stderr, no daemonizing) as the current user, so the temp dir needs no ownership changes; as root it
 * simply stays root, which is fine for a server bound to 127.0.0.1 in a test.
 */
export async function startBind(options: StartBindOptions): Promise<BindServer> {
  if (!existsSync(NAMED)) throw new MissingBinaryError(`named not found at ${NAMED}: install it with \`apt-get install -y bind9\` (or set NAMED_BIN)`);
  const zone = absolute(options.zone);
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bind-'));
  const conf = join(dir, 'named.conf');
  writeFileSync(conf, namedConf(dir, port, zone, options.keys));
  writeFileSync(join(dir, 'zone.db'), zoneFile(zone, options.records ?? []));
  // -4: IPv4 only; -n 1: one worker thread is plenty and starts faster.
  const proc = startProcess(NAMED, ['-g', '-4', '-n', '1', '-c', conf], { cwd: dir });
  const stopAndClean = async () => {
    await proc.stop('SIGTERM', 5000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // The check reports an exit instead of throwing: waitFor would keep retrying a thrown error.
    const state = await waitFor(
      async () => {
        if (proc.child.exitCode !== null || proc.child.signalCode !== null) return 'exited';
        return (await dig(port, zone, 'SOA')).length > 0 ? 'ready' : undefined;
      },
      15_000,
      `named on port ${port} to serve ${zone}`,
      100,
    );
    if (state === 'exited') throw new Error(`named exited: ${proc.output().slice(-2000)}`);
  } catch (err) {
    await stopAndClean();
    throw err;
  }
  return {
    host: '127.0.0.1',
    port,
    zone,
    process: proc,
    dig: (name, type) => dig(port, name, type),
    digFull: async (name, type) => (await run(DIG, ['@127.0.0.1', '-p', String(port), '+tcp', '+noall', '+answer', absolute(name), type])).stdout,
    addRecords: async (records, replace = false) => {
      const key = options.keys[0];
      if (!key) throw new Error('addRecords needs a key');
      const lines = [`server 127.0.0.1 ${port}`, `zone ${zone}`];
      for (const r of records) {
        const [name, , , type] = r.trim().split(/\s+/);
        if (replace) lines.push(`update delete ${name} ${type}`);
        lines.push(`update add ${r}`);
      }
      lines.push('send', '');
      await runWithInput(NSUPDATE, ['-y', `hmac-sha256:${absolute(key.name)}:${key.secret}`, '-v'], lines.join('\n'));
    },
    stop: stopAndClean,
  };
}
