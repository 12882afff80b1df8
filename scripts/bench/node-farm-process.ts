/**
 * The node farm in a process of its own (so its event loop is not shared with the benchmark's
 * bookkeeping). Speaks over the fork IPC channel:
 *   ← { type: 'ready', groups: number[][] }   ports of each group, master first
 *   → { type: 'kill', port }                   ← { type: 'killed', port, at }
 *   → { type: 'stats' }                        ← { type: 'stats', loopDelayP99Ms, loopDelayMaxMs }
 */
import { NodeFarm } from './node-farm.js';

type Command = { type: 'kill'; port: number } | { type: 'stats' } | { type: 'reset-stats' };

async function main(): Promise<void> {
  const groups = Number(process.argv[2] ?? 1000);
  const replicas = Number(process.argv[3] ?? 2);
  const farm = await NodeFarm.start(groups, replicas, Number(process.argv[4] ?? 10_000));
  // Lateness of a 10 ms interval timer: how long the farm's event loop was busy or not scheduled.
  let delays: number[] = [];
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    delays.push(Math.max(0, now - last - 10));
    last = now;
  }, 10).unref();
  process.on('message', (msg: Command) => {
    if (msg.type === 'kill') {
      farm.kill(msg.port);
      process.send!({ type: 'killed', port: msg.port, at: Date.now() });
    } else if (msg.type === 'reset-stats') {
      delays = [];
    } else if (msg.type === 'stats') {
      const sorted = [...delays].sort((a, b) => a - b);
      process.send!({ type: 'stats', loopDelayP99Ms: sorted[Math.floor(sorted.length * 0.99)] ?? 0, loopDelayMaxMs: sorted[sorted.length - 1] ?? 0 });
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
  process.send!({ type: 'ready', groups: farm.groups.map((g) => g.map((n) => n.port)) });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
