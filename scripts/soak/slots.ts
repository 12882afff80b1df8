import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { type ManagedProcess, startProcess } from '../../libs/testing/src/index.js';

/**
 * One long-lived process of the soak (a controller or an agent) that faults kill and the soak starts
 * again: the same command line and environment each time, a new incarnation (pid) each start. Its
 * output goes to `<results>/<name>.log`, appended across incarnations.
 */
export class Slot {
  proc: ManagedProcess;
  incarnation = 1;
  /** Exits the soak did not cause (a crash): each is recorded and the process started again. */
  readonly unexpectedExits: { at: number; code: number | null; signal: string | null }[] = [];
  private expectingExit = false;
  private readonly log: WriteStream;

  constructor(
    readonly name: string,
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv,
    resultsDir: string,
  ) {
    this.log = createWriteStream(join(resultsDir, `${name}.log`), { flags: 'a' });
    this.proc = this.spawn();
  }

  get pid(): number {
    return this.proc.child.pid!;
  }

  get running(): boolean {
    return this.proc.child.exitCode === null && this.proc.child.signalCode === null;
  }

  /** Exited without the soak asking (and not started again yet). */
  get crashed(): boolean {
    return !this.running && !this.expectingExit;
  }

  /** Sends `signal` and waits for the exit (SIGKILL after `graceMs`). */
  async stop(signal: NodeJS.Signals, graceMs = 15_000): Promise<void> {
    this.expectingExit = true;
    await this.proc.stop(signal, graceMs);
  }

  /** A new incarnation with the same command line. */
  start(): void {
    if (this.running) throw new Error(`${this.name} is still running`);
    this.incarnation++;
    this.proc = this.spawn();
  }

  /** Final stop at the end of the soak. */
  async close(): Promise<void> {
    await this.stop('SIGTERM', 10_000);
    this.log.end();
  }

  private spawn(): ManagedProcess {
    this.expectingExit = false;
    const proc = startProcess('node', this.args, { env: this.env });
    this.log.write(`\n===== ${this.name} incarnation ${this.incarnation}, pid ${proc.child.pid}, ${new Date().toISOString()}\n`);
    proc.child.stdout?.on('data', (chunk: Buffer) => this.log.write(chunk));
    proc.child.stderr?.on('data', (chunk: Buffer) => this.log.write(chunk));
    proc.child.once('exit', (code, signal) => {
      this.log.write(`===== ${this.name} pid ${proc.child.pid} exited (code ${code}, signal ${signal}) ${new Date().toISOString()}\n`);
      if (!this.expectingExit) this.unexpectedExits.push({ at: Date.now(), code, signal });
    });
    return proc;
  }
}
