/**
 * BIND9 as the reference authoritative server of `bench:dns`: `named` in the foreground serving one zone
 * from a zone file, in a temp dir of its own, configured as libs/testing's `startBind` does for tests
 * (everything it writes stays in that dir, no rndc control channel) but without updates and with the
 * worker thread count given.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, type ManagedProcess, MissingBinaryError, namedConf, startProcess, waitFor } from '../../libs/testing/src/index.js';

const run = promisify(execFile);

export const NAMED = process.env['NAMED_BIN'] ?? '/usr/sbin/named';

export interface BenchBind {
  port: number;
  proc: ManagedProcess;
  /** `named -v`. */
  version: string;
  stop(): Promise<void>;
}

/** Starts `named -g -4 -n <threads>` serving `zoneText` for `zone` on a free loopback port; waits until it answers. */
export async function startBenchBind(zone: string, zoneText: string, threads: number): Promise<BenchBind> {
  if (!existsSync(NAMED)) throw new MissingBinaryError(`named not found at ${NAMED}: install it with \`apt-get install -y bind9\` (or set NAMED_BIN)`);
  const version = (await run(NAMED, ['-v'])).stdout.trim();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-bind-'));
  const conf = join(dir, 'named.conf');
  writeFileSync(conf, namedConf(dir, port, zone));
  writeFileSync(join(dir, 'zone.db'), zoneText);
  const proc = startProcess(NAMED, ['-g', '-4', '-n', String(threads), '-c', conf], { cwd: dir });
  const stop = async () => {
    await proc.stop('SIGTERM', 5000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const state = await waitFor(
      async () => {
        if (proc.child.exitCode !== null || proc.child.signalCode !== null) return 'exited';
        const log = proc.output();
        if (log.includes('not loaded due to errors')) return 'exited';
        // The last line of a start-up (`running as: …` comes first).
        return / running$/m.test(log) ? 'ready' : undefined;
      },
      30_000,
      `named on port ${port} to serve ${zone}`,
      100,
    );
    if (state === 'exited') throw new Error(`named failed to serve ${zone}: ${proc.output().slice(-2000)}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, proc, version, stop };
}
