import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { MissingBinaryError, type ManagedProcess, startProcess } from '../../libs/testing/src/index.js';

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Path of `name` on PATH (or in `envVar`), else a MissingBinaryError saying what to install. */
export function binary(name: string, envVar: string, aptPackage: string): string {
  const fromEnv = process.env[envVar];
  if (fromEnv) return fromEnv;
  try {
    const path = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    if (path) return path;
  } catch {
    // not on PATH
  }
  throw new MissingBinaryError(`${name} not found: install it with \`apt-get install -y ${aptPackage}\` (or set ${envVar})`);
}

/** A node child with a fork IPC channel, tracked for cleanup like every other process of the benchmark. */
export function startNodeChild(file: string, args: string[], nodeArgs: string[] = []): ManagedProcess {
  return startProcess('node', [...nodeArgs, file, ...args], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
}

/** The first IPC message of `type` from `proc`; rejects when the process exits first. */
export function nextMessage<T>(proc: ManagedProcess, type: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onMessage = (msg: { type?: string }) => {
      if (msg.type !== type) return;
      proc.child.off('message', onMessage);
      resolve(msg as T);
    };
    proc.child.on('message', onMessage);
    void proc.exited.then((code) => reject(new Error(`${proc.child.spawnargs.join(' ')} exited (${code}) before "${type}": ${proc.output().slice(-2000)}`)));
  });
}

/** Runs a load generator (`file`, one JSON argument) to its end and returns its `result` message. */
export async function runLoadGenerator<T>(file: string, options: unknown): Promise<T> {
  const proc = startNodeChild(file, [JSON.stringify(options)]);
  try {
    return await nextMessage<T>(proc, 'result');
  } finally {
    await proc.stop('SIGTERM', 2000);
  }
}

/** CPU seconds the whole machine has been busy (every core, every process), from /proc/stat. */
export function machineBusySeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal …
  const busy = fields.reduce((a, b, i) => (i === 3 || i === 4 || i > 7 ? a : a + b), 0);
  return busy / CLK_TCK;
}

/**
 * Raises this process's open-file limit (children inherit it) where the system allows: a node farm of
 * 15,000 ports plus a Sentinel endpoint's link to every master outgrows common defaults. Best effort.
 */
export function raiseFileLimit(files = 262_144): void {
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${files}:${files}`], { stdio: 'ignore' });
  } catch {
    // Kept: the run says so if it runs out.
  }
}
