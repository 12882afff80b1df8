import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess } from '../../libs/testing/src/index.js';
import { treeCpuSeconds } from './process-tree.js';
import { binary, cpuSeconds, machineBusySeconds } from './processes.js';

/** The Lua script that draws each request's path from a file (kept in the source tree: tsc does not copy it). */
const PATHS_SCRIPT = fileURLToPath(new URL('../../../scripts/bench/wrk-paths.lua', import.meta.url));

export interface WrkOptions {
  /** `http://host:port`, no path: the paths come from `paths`. */
  base: string;
  /** Request paths, one drawn at random per request. */
  paths: string[];
  headers?: Record<string, string>;
  connections: number;
  seconds: number;
  /** wrk counts an answer slower than this as a socket error (timeout). */
  timeoutSeconds: number;
  /** Process whose CPU is measured over the run (the server). */
  serverPid: number;
  /** A PostgreSQL server whose CPU (postmaster and backends) is measured over the run. */
  databasePid?: number;
}

export interface WrkResult {
  requests: number;
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  /** Bytes read per response, headers included. */
  bytesPerResponse: number;
  /** Answers with a status ≥ 400 (wrk's "Non-2xx or 3xx responses"). */
  non2xx: number;
  /** Socket errors: connect, read, write, timeout. */
  socketErrors: number;
  serverCores: number;
  /** NaN without `databasePid`. */
  databaseCores: number;
  wrkCores: number;
  machineCores: number;
}

/** wrk's `12.34us` / `1.20ms` / `2.00s` as milliseconds. */
export function wrkDurationMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`not a wrk duration: ${text}`);
  const scale = { us: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 }[m[2] as 'us' | 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * scale;
}

/** wrk's `1.23MB` (binary units) as bytes. */
function wrkBytes(text: string): number {
  const m = /^([\d.]+)([KMGT]?)B$/.exec(text.trim());
  if (!m) throw new Error(`not a wrk byte count: ${text}`);
  return Number(m[1]) * 1024 ** ['', 'K', 'M', 'G', 'T'].indexOf(m[2]!);
}

/** The numbers of `wrk --latency` output, and the children's CPU that `times` printed after it. */
export function parseWrkOutput(out: string): Omit<WrkResult, 'serverCores' | 'databaseCores' | 'machineCores' | 'wrkCores'> & { childCpuSeconds: number } {
  const grab = (re: RegExp, what: string) => {
    const m = re.exec(out);
    if (!m) throw new Error(`wrk output without ${what}:\n${out.slice(-2000)}`);
    return m;
  };
  const total = grab(/(\d+) requests in ([\d.]+\w+), ([\d.]+\w+) read/, 'a request count');
  const requests = Number(total[1]);
  // With no answer inside the run wrk prints zeros for the percentiles: not a latency.
  const latency = (re: RegExp, what: string) => (requests > 0 ? wrkDurationMs(grab(re, what)[1]!) : NaN);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  // `times` prints the shell's own user and system time, then its children's: the last line is wrk's.
  const cpu = [...out.matchAll(/^(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/gm)].at(-1);
  return {
    requests,
    rps: Number(grab(/Requests\/sec:\s+([\d.]+)/, 'Requests/sec')[1]),
    p50Ms: latency(/^\s+50%\s+(\S+)\s*$/m, 'the 50th percentile'),
    p90Ms: latency(/^\s+90%\s+(\S+)\s*$/m, 'the 90th percentile'),
    p99Ms: latency(/^\s+99%\s+(\S+)\s*$/m, 'the 99th percentile'),
    bytesPerResponse: requests > 0 ? wrkBytes(total[3]!) / requests : NaN,
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    socketErrors: socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    childCpuSeconds: cpu ? Number(cpu[1]) * 60 + Number(cpu[2]) + Number(cpu[3]) * 60 + Number(cpu[4]) : NaN,
  };
}

let pathsDir: string | undefined;

/**
 * One `wrk -t1 --latency` run with the paths script; the server's, the database's and the machine's CPU
 * over it from /proc, wrk's own from the shell's `times` once it has exited.
 */
export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  pathsDir ??= mkdtempSync(join(tmpdir(), 'bench-rest-'));
  const pathsFile = join(pathsDir, 'paths.txt');
  writeFileSync(pathsFile, `${o.paths.join('\n')}\n`);
  const wrk = binary('wrk', 'WRK_BIN', 'wrk');
  const headerArgs = Object.entries(o.headers ?? {}).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  const args = [
    '-t1',
    `-c${o.connections}`,
    `-d${o.seconds}s`,
    `--timeout`,
    `${o.timeoutSeconds}s`,
    '--latency',
    ...headerArgs,
    '-s',
    PATHS_SCRIPT,
    o.base,
    '--',
    pathsFile,
  ];
  const cpu0 = cpuSeconds(o.serverPid);
  const db0 = o.databasePid !== undefined ? treeCpuSeconds(o.databasePid) : NaN;
  const machine0 = machineBusySeconds();
  const t0 = performance.now();
  // `times` reports the CPU of wrk, which the shell has reaped by then (user and system, summed below).
  const proc = startProcess('bash', ['-c', '"$0" "$@"; code=$?; times; exit $code', wrk, ...args]);
  const code = await proc.exited;
  const elapsed = (performance.now() - t0) / 1000;
  const serverCores = (cpuSeconds(o.serverPid) - cpu0) / elapsed;
  const databaseCores = o.databasePid !== undefined ? (treeCpuSeconds(o.databasePid) - db0) / elapsed : NaN;
  const machineCores = (machineBusySeconds() - machine0) / elapsed;
  if (code !== 0) throw new Error(`wrk exited ${code}: ${proc.output().slice(-2000)}`);
  const { childCpuSeconds, ...parsed } = parseWrkOutput(proc.output());
  return { ...parsed, serverCores, databaseCores, machineCores, wrkCores: childCpuSeconds / elapsed };
}
