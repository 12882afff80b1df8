/**
 * The fault-injection suite's quick subset, run as `npm run chaos` runs it (real namespaces, nftables
 * rules, signals, redis-server, PostgreSQL, two controllers, three agents), on Vigil only: a short pause
 * of the master, one agent cut from it, a replica zone isolated (minority faults: never a failover, never
 * two masters), a crashed master (failed over) and a switchover (nothing lost). Also: the lab is removed
 * when the suite is killed with SIGKILL.
 */
import { execFileSync, spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../libs/testing/src/index.js';

const labNamespaces = (pid: number) =>
  execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(`vchaos-${pid}-`));

function runSuite(args: string[]): Promise<{ code: number | null; out: string; pid: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['dist/scripts/chaos/main.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => resolve({ code, out, pid: child.pid! }));
  });
}

describe('chaos suite (quick subset)', () => {
  it('minority faults cause no failover and no split brain; a crash is failed over; a switchover loses nothing', { timeout: 240_000 }, async () => {
    const scenarios = ['pause-master-short', 'cut-one-watcher-from-master', 'isolate-replica-zone', 'crash-master', 'switchover'];
    const { code, out, pid } = await runSuite(['--seed', '20261202', '--scenario', scenarios.join(','), '--trials', '1', '--systems', 'vigil', '--no-report']);
    const last = out.trim().split('\n').at(-1)!;
    expect(code, out.slice(-3000)).toBe(0);
    const { summary } = JSON.parse(last) as {
      summary: {
        trials: number;
        checks: {
          minorityTrials: number;
          minorityFalseFailovers: number;
          minoritySplitBrainMs: number;
          switchoverLost: number;
          missedFailovers: number;
          failedTrials: number;
        };
        scenarios: { scenario: string; failovers: number; acked: number; lost: number }[];
      };
    };
    expect(summary.trials).toBe(5);
    expect(summary.checks).toMatchObject({
      minorityTrials: 3,
      minorityFalseFailovers: 0,
      minoritySplitBrainMs: 0,
      switchoverLost: 0,
      missedFailovers: 0,
      failedTrials: 0,
    });
    const by = Object.fromEntries(summary.scenarios.map((s) => [s.scenario, s]));
    expect(by['crash-master']!.failovers).toBe(1);
    expect(by['switchover']!.failovers).toBe(1);
    for (const s of summary.scenarios) expect(s.acked, s.scenario).toBeGreaterThan(100);
    expect(labNamespaces(pid)).toEqual([]);
  });

  it('removes every namespace and process of the lab when the suite is killed', { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, ['dist/scripts/chaos/main.js', '--scenario', 'kill-replica', '--trials', '1', '--no-report'], { stdio: 'ignore' });
    const pid = child.pid!;
    // The lab exists and its processes run (PostgreSQL, controllers) before the kill.
    await waitFor(
      async () => labNamespaces(pid).length >= 13 && execFileSync('ip', ['netns', 'pids', `vchaos-${pid}-pg`], { encoding: 'utf8' }).trim() !== '',
      30_000,
      'the lab running',
      100,
    );
    child.kill('SIGKILL');
    await waitFor(async () => labNamespaces(pid).length === 0, 15_000, 'the watchdog to remove the lab', 100);
  });
});
