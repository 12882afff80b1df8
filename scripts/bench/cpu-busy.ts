/**
 * How busy the machine is apart from the benchmark: the machine is shared, and a page load timed while
 * something else holds the cores says little about the page.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { machineBusySeconds } from './processes.js';

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/**
 * CPU seconds used so far by this process and every process under it (the browser's included), the
 * children they have reaped counted too: the machine's busy time minus this is other load.
 */
function ownCpuSeconds(): number {
  const procs = new Map<number, { ppid: number; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(entry), { ppid: Number(fields[1]), ticks: [11, 12, 13, 14].reduce((a, i) => a + Number(fields[i]), 0) });
    } catch {
      // exited meanwhile
    }
  }
  const mine = new Set([process.pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, p] of procs) {
      if (!mine.has(pid) && mine.has(p.ppid)) {
        mine.add(pid);
        grew = true;
      }
    }
  }
  let ticks = 0;
  for (const pid of mine) ticks += procs.get(pid)?.ticks ?? 0;
  return ticks / CLK_TCK;
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
