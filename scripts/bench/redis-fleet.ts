import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ManagedProcess, redisServerBinary, startProcess } from '../../libs/testing/src/index.js';
import { cpuSeconds } from './processes.js';

/**
 * Many real redis-servers for scale benchmarks: each a standalone master with nothing persisted and a
 * 1 Hz server cron (`--hz 1`), so an idle node costs as little as a redis-server can. Ports are taken below
 * the kernel's ephemeral range, where outgoing connections (thousands of them here) cannot take them first.
 */
export interface RedisFleet {
  readonly ports: number[];
  readonly pids: number[];
  /** CPU seconds (user + system) all the servers have used so far. */
  cpuSeconds(): number;
  /**
   * The servers' memory added up, MiB, as proportional set size (a page shared by k processes counts 1/k
   * in each): the sum of their RSS would count the redis-server binary's pages once per server.
   */
  pssMiB(): number;
  /** SIGKILLs every server (nothing to save) and removes their directory. */
  stop(): Promise<void>;
}

const READY = /Ready to accept connections/;

/** Ports at or above this are the kernel's to hand out for outgoing connections. */
function ephemeralStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** Hands out ports that were free a moment ago, walking up from a random start below the ephemeral range. */
export function portPicker(): () => Promise<number> {
  const high = ephemeralStart();
  const low = 10_000;
  let next = low + Math.floor(Math.random() * (high - low) * 0.5);
  return async () => {
    for (let tries = 0; tries < high - low; tries++) {
      const port = next;
      next = next + 1 >= high ? low : next + 1;
      if (await canListen(port)) return port;
    }
    throw new Error('no free port below the ephemeral range');
  };
}

export function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

function pssMiB(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** One redis-server on `port`; resolves when it accepts connections, rejects (with its output) when it exits first. */
function startOne(port: number, dir: string): Promise<ManagedProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--hz', '1', '--save', '', '--appendonly', 'no'];
  args.push('--dir', dir, '--daemonize', 'no', '--logfile', '', '--protected-mode', 'no');
  const proc = startProcess(redisServerBinary(), args);
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => {
      void proc.stop('SIGKILL');
      reject(new Error(`redis-server on ${port} not ready after 20 s: ${proc.output().slice(-500)}`));
    }, 20_000);
    const onData = (chunk: Buffer) => {
      seen = (seen + chunk.toString()).slice(-4096);
      if (!READY.test(seen)) return;
      clearTimeout(timer);
      proc.child.stdout?.off('data', onData);
      resolve(proc);
    };
    proc.child.stdout?.on('data', onData);
    void proc.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server on ${port} exited (${code}): ${proc.output().slice(-500)}`));
    });
  });
}

/**
 * Starts `count` redis-servers, `batch` at a time, each ready before this resolves. A port taken meanwhile
 * by someone else is replaced by another. On any failure every server started so far is killed.
 */
export async function startRedisFleet(count: number, batch = 50, onProgress?: (started: number) => void): Promise<RedisFleet> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-fleet-'));
  // Also when the benchmark exits without stopping the fleet (Ctrl-C during start-up; the servers are SIGKILLed then).
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDir);
  const procs: ManagedProcess[] = [];
  const ports: number[] = [];
  const pids: number[] = [];
  const pick = portPicker();
  const stop = async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL', 2000)));
    removeDir();
  };
  try {
    for (let done = 0; done < count; done += batch) {
      const started = await Promise.all(
        Array.from({ length: Math.min(batch, count - done) }, async () => {
          for (let attempt = 1; ; attempt++) {
            const port = await pick();
            try {
              const proc = await startOne(port, dir);
              procs.push(proc);
              return { port, proc };
            } catch (err) {
              if (attempt >= 3 || !/Address already in use/i.test(String(err))) throw err;
            }
          }
        }),
      );
      for (const s of started) {
        ports.push(s.port);
        pids.push(s.proc.child.pid!);
      }
      onProgress?.(ports.length);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    ports,
    pids,
    cpuSeconds: () => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0),
    pssMiB: () => pids.reduce((sum, pid) => sum + (pssMiB(pid) || 0), 0),
    stop,
  };
}
