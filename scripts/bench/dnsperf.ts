/**
 * dnsperf (DNS-OARC) runs for `bench:dns`: its statistics parsed, and its verbose mode (one line per
 * response: rcode, name, type, latency) read back for latency percentiles and per-query checks.
 */
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { binary } from './processes.js';
import { startProcess } from '../../libs/testing/src/index.js';

export interface DnsperfOptions {
  port: number;
  /** Query file: `name type` per line. */
  file: string;
  seconds: number;
  clients: number;
  /** Most queries outstanding (`-q`). */
  outstanding: number;
  /** Queries per second (`-Q`); unlimited when absent. */
  rate?: number;
  /** Seconds before a query counts lost (`-t`). */
  timeout: number;
}

export interface DnsperfStats {
  sent: number;
  completed: number;
  lost: number;
  /** Responses by rcode name, as dnsperf counts them. */
  rcodes: Record<string, number>;
  qps: number;
  runSeconds: number;
  avgMs: number;
  minMs: number;
  maxMs: number;
  stddevMs: number;
  requestBytes: number;
  responseBytes: number;
}

/** One verbose line: `> NOERROR name type 0.000123` (`T` for a timeout). */
export interface DnsperfResponse {
  rcode: string;
  name: string;
  type: string;
  latencyMs: number;
}

export function dnsperfBinary(): string {
  return binary('dnsperf', 'DNSPERF_BIN', 'dnsperf');
}

export function dnsperfArgs(o: DnsperfOptions): string[] {
  const args = ['-s', '127.0.0.1', '-p', String(o.port), '-d', o.file, '-l', String(o.seconds), '-c', String(o.clients), '-q', String(o.outstanding)];
  args.push('-t', String(o.timeout));
  if (o.rate !== undefined) args.push('-Q', String(o.rate));
  return args;
}

function field(text: string, re: RegExp, what: string): RegExpMatchArray {
  const m = text.match(re);
  if (!m) throw new Error(`dnsperf output has no ${what}: ${text.slice(-1500)}`);
  return m;
}

/** The statistics block dnsperf prints at the end of a run. */
export function parseDnsperf(text: string): DnsperfStats {
  const num = (re: RegExp, what: string) => Number(field(text, re, what)[1]);
  const rcodes: Record<string, number> = {};
  const codes = text.match(/Response codes:\s+(.*)/)?.[1] ?? '';
  for (const m of codes.matchAll(/([A-Z0-9]+) (\d+) \(/g)) rcodes[m[1]!] = Number(m[2]);
  const latency = field(text, /Average Latency \(s\):\s+([\d.]+) \(min ([\d.]+), max ([\d.]+)\)/, 'latency');
  const size = field(text, /Average packet size:\s+request (\d+), response (\d+)/, 'packet sizes');
  return {
    sent: num(/Queries sent:\s+(\d+)/, 'queries sent'),
    completed: num(/Queries completed:\s+(\d+)/, 'queries completed'),
    lost: num(/Queries lost:\s+(\d+)/, 'queries lost'),
    rcodes,
    qps: num(/Queries per second:\s+([\d.]+)/, 'queries per second'),
    runSeconds: num(/Run time \(s\):\s+([\d.]+)/, 'run time'),
    avgMs: Number(latency[1]) * 1000,
    minMs: Number(latency[2]) * 1000,
    maxMs: Number(latency[3]) * 1000,
    stddevMs: num(/Latency StdDev \(s\):\s+([\d.]+)/, 'latency stddev') * 1000,
    requestBytes: Number(size[1]),
    responseBytes: Number(size[2]),
  };
}

/** Runs dnsperf to its end. */
export async function runDnsperf(o: DnsperfOptions): Promise<DnsperfStats> {
  const proc = startProcess(dnsperfBinary(), dnsperfArgs(o));
  const code = await proc.exited;
  if (code !== 0) throw new Error(`dnsperf ${dnsperfArgs(o).join(' ')} failed (${code}): ${proc.output().slice(-1500)}`);
  return parseDnsperf(proc.output());
}

/**
 * A verbose run (`-v`): its statistics and every response. The lines go to a file (`out`, removed
 * afterwards), not through this process.
 */
export async function runDnsperfVerbose(o: DnsperfOptions, out: string): Promise<{ stats: DnsperfStats; responses: DnsperfResponse[] }> {
  const fd = openSync(out, 'w');
  try {
    const proc = startProcess(dnsperfBinary(), [...dnsperfArgs(o), '-v'], { stdio: ['ignore', fd, 'pipe'] });
    const code = await proc.exited;
    if (code !== 0) throw new Error(`dnsperf -v failed (${code}): ${proc.output().slice(-1500)}`);
  } finally {
    closeSync(fd);
  }
  const text = readFileSync(out, 'utf8');
  rmSync(out, { force: true });
  const responses: DnsperfResponse[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('> ')) continue;
    const [rcode, name, type, latency] = line.slice(2).split(' ');
    responses.push({ rcode: rcode!, name: name!, type: type!, latencyMs: Number(latency) * 1000 });
  }
  return { stats: parseDnsperf(text), responses };
}
