/** `npm run chaos` options, parsed and checked (a bad option names itself and stops). */
import type { System } from '../../libs/chaos/src/types.js';

export interface ChaosOptions {
  seed: number;
  /** Scenario names; empty: all. */
  scenarios: string[];
  /** Trials per scenario; undefined: each scenario's own default. */
  trials?: number;
  systems: System[];
  downAfterMs: number;
  probeIntervalMs: number;
  /** The controllers' LEADER_LEASE_MS; default: down-after. */
  leaderLeaseMs?: number;
  /** Write the table and plot into BENCHMARKS.md / docs/. */
  report: boolean;
  /** Trial results are rewritten here after every trial. */
  resultsFile?: string;
}

export const USAGE = `usage: npm run chaos -- [--seed N] [--scenario NAME[,NAME…]] [--trials K] [--systems vigil,sentinel]
                        [--down-after MS] [--probe-interval MS] [--leader-lease MS] [--no-report] [--results FILE] [--list]`;

export function parseOptions(argv: string[]): ChaosOptions | 'list' {
  const o: ChaosOptions = {
    seed: Date.now() % 1_000_000,
    scenarios: [],
    systems: ['vigil', 'sentinel'],
    downAfterMs: 2000,
    probeIntervalMs: 500,
    report: true,
  };
  const int = (flag: string, v: string | undefined, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`${flag} must be an integer ≥ ${min}, got ${v ?? 'nothing'}\n${USAGE}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => argv[++i];
    switch (flag) {
      case '--seed':
        o.seed = int(flag, value(), 0);
        break;
      case '--scenario':
        o.scenarios = (value() ?? '').split(',').filter(Boolean);
        break;
      case '--trials':
        o.trials = int(flag, value(), 1);
        break;
      case '--systems': {
        const systems = (value() ?? '').split(',').filter(Boolean);
        const bad = systems.filter((s) => s !== 'vigil' && s !== 'sentinel');
        if (bad.length || !systems.length) throw new Error(`--systems takes vigil and/or sentinel, got ${systems.join(',') || 'nothing'}\n${USAGE}`);
        o.systems = systems as System[];
        break;
      }
      case '--down-after':
        o.downAfterMs = int(flag, value(), 500);
        break;
      case '--probe-interval':
        o.probeIntervalMs = int(flag, value(), 50);
        break;
      case '--leader-lease':
        o.leaderLeaseMs = int(flag, value(), 300);
        break;
      case '--no-report':
        o.report = false;
        break;
      case '--results':
        o.resultsFile = value();
        break;
      case '--list':
        return 'list';
      default:
        throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
  }
  return o;
}
