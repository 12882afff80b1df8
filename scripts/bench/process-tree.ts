import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

interface ProcStat {
  ppid: number;
  /** utime + stime + cutime + cstime: its own CPU and that of the children it has reaped. */
  ticks: number;
}

function allProcesses(): Map<number, ProcStat> {
  const procs = new Map<number, ProcStat>();
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
  return procs;
}

/**
 * CPU seconds used so far by `pid` and every process under it: a PostgreSQL server's backends do the
 * work of the queries a route sends, so they count towards what the route costs.
 */
export function treeCpuSeconds(pid: number): number {
  const procs = allProcesses();
  const tree = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [p, s] of procs) {
      if (!tree.has(p) && tree.has(s.ppid)) {
        tree.add(p);
        grew = true;
      }
    }
  }
  let ticks = 0;
  for (const p of tree) ticks += procs.get(p)?.ticks ?? 0;
  return ticks / CLK_TCK;
}

/** The postmaster listening on `port` (its command line has `-p <port>`), if any. */
export function postgresPid(port: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const i = argv.indexOf('-p');
      if (argv[0]?.endsWith('/postgres') && i >= 0 && argv[i + 1] === String(port)) return Number(entry);
    } catch {
      // exited meanwhile
    }
  }
  return undefined;
}
