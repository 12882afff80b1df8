/**
 * How busy the machine is apart from the benchmark: the machine is shared, and a page load timed while
 * something else holds the cores says little about the page.
 */
import { treeCpuSeconds } from './process-tree.js';
import { machineBusySeconds } from './processes.js';

/** CPU seconds used so far by this process and every process under it (the browser's included): the machine's busy time minus this is other load. */
function ownCpuSeconds(): number {
  return treeCpuSeconds(process.pid);
}

/** Cores busy over `fn`'s run: the whole machine, and this benchmark's own processes. */
export async function busy<T>(fn: () => Promise<T>): Promise<{ value: T; machine: number; own: number }> {
  const m0 = machineBusySeconds();
  const o0 = ownCpuSeconds();
  const t0 = Date.now();
  const value = await fn();
  const s = (Date.now() - t0) / 1000;
  return { value, machine: (machineBusySeconds() - m0) / s, own: (ownCpuSeconds() - o0) / s };
}
