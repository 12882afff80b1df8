/** The soak's command line: `--minutes 60 --fault-every 180 --clusters 1000 --sample-every 10 --results dir`. */
export interface SoakOptions {
  /** Length of the measured soak, after setup. */
  minutes: number;
  /** Seconds between two faults. */
  faultEverySeconds: number;
  /** Farm clusters (3 nodes each). */
  clusters: number;
  /** Real redis-server groups (3 nodes each) where the Redis faults happen. */
  realGroups: number;
  sampleEverySeconds: number;
  resultsDir: string;
  /** Write BENCHMARKS.md and docs/soak.svg (only for runs of 30 minutes or more unless forced). */
  writeReport: boolean;
}

export function parseSoakOptions(argv: string[]): SoakOptions {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]!);
    if (!m)
      throw new Error(`unexpected argument ${JSON.stringify(argv[i])} (flags: --minutes, --fault-every, --clusters, --sample-every, --results, --report)`);
    if (m[1] === 'report') flags.set('report', 'true');
    else flags.set(m[1]!, m[2] ?? argv[++i] ?? '');
  }
  const num = (name: string, fallback: number, min: number, max: number): number => {
    const raw = flags.get(name);
    flags.delete(name);
    if (raw === undefined) return fallback;
    const v = Number(raw);
    if (!Number.isFinite(v) || v < min || v > max) throw new Error(`--${name} must be a number between ${min} and ${max}, got ${JSON.stringify(raw)}`);
    return v;
  };
  const minutes = num('minutes', 60, 1, 24 * 60);
  const options: SoakOptions = {
    minutes,
    faultEverySeconds: num('fault-every', 180, 30, 3600),
    clusters: Math.round(num('clusters', 1000, 1, 5000)),
    realGroups: Math.round(num('real-groups', 2, 1, 4)),
    sampleEverySeconds: num('sample-every', 10, 1, 600),
    resultsDir: flags.get('results') ?? `dist/soak-results/${new Date().toISOString().replace(/[:.]/g, '-')}`,
    writeReport: flags.get('report') === 'true' || minutes >= 30,
  };
  flags.delete('results');
  flags.delete('report');
  if (flags.size > 0) throw new Error(`unknown flag(s): ${[...flags.keys()].map((k) => `--${k}`).join(', ')}`);
  return options;
}
