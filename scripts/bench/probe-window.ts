import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { machineBusySeconds } from './processes.js';

/** Something whose CPU seconds (and optionally resident memory) a window measures. */
export interface Subject {
  cpu(): number;
  rssMiB?(): number;
}

export interface WindowResult {
  seconds: number;
  /** CPU seconds per wall second, per subject. */
  cores: Record<string, number>;
  /** Peak resident memory per subject, sampled every 2 s. */
  rssMiB: Record<string, number>;
  /** Every process of the machine (other people's benchmarks included), for context. */
  machineCores: number;
  loadAvg: number;
}

/**
 * CPU used by each subject over `seconds` of wall time. CPU seconds, not wall time, are what compare on a
 * machine shared with other work: a process waiting for a core is not charged for the wait.
 */
export async function measureWindow(seconds: number, subjects: Record<string, Subject>): Promise<WindowResult> {
  const names = Object.keys(subjects);
  const rss: Record<string, number> = {};
  const sampleRss = () => {
    for (const n of names) {
      const r = subjects[n]!.rssMiB?.();
      if (r !== undefined && Number.isFinite(r)) rss[n] = Math.max(rss[n] ?? 0, r);
    }
  };
  const cpu0 = Object.fromEntries(names.map((n) => [n, subjects[n]!.cpu()]));
  const machine0 = machineBusySeconds();
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  sampleRss();
  while (performance.now() < end) {
    await sleep(Math.min(2000, end - performance.now()));
    sampleRss();
  }
  const wall = (performance.now() - t0) / 1000;
  const cores = Object.fromEntries(names.map((n) => [n, (subjects[n]!.cpu() - cpu0[n]!) / wall]));
  return { seconds: wall, cores, rssMiB: rss, machineCores: (machineBusySeconds() - machine0) / wall, loadAvg: loadavg()[0]! };
}
