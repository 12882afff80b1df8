import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process';

const children = new Set<ChildProcess>();
let hooked = false;

/** Kills every child still running when this process exits, also on a crash or Ctrl-C. */
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  const killAll = () => {
    for (const child of children) child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      // A program with its own handler (the demo) stops its children gracefully itself.
      if (process.listenerCount(sig) > 0) return;
      killAll();
      process.exit(130);
    });
  }
}

/** A child process that keeps the tail of its output for error messages. */
export interface ManagedProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
  /** Sends `signal` (default SIGTERM) and waits for the exit, escalating to SIGKILL after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

/** Spawns a process tracked for cleanup. The last 64 KiB of its output are kept. */
export function startProcess(command: string, args: string[], options: SpawnOptions = {}): ManagedProcess {
  hookExit();
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  children.add(child);
  let buffer = '';
  const keep = (chunk: Buffer) => {
    buffer = (buffer + chunk.toString()).slice(-65_536);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    });
    child.once('error', (err) => {
      buffer += `\n${err.message}`;
      children.delete(child);
      resolve(-1);
    });
  });
  return {
    child,
    output: () => buffer,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
