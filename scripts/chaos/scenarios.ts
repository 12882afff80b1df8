/**
 * The scenarios: what each breaks, for how long, and what it expects. Durations are drawn from the
 * trial's seeded generator, in units of down-after. "Watchers" are the processes that judge a node down:
 * Vigil's three probe agents or Sentinel's three sentinels, one per zone, so a scenario cuts the same
 * paths for both systems. The `app` host (clients, observer) is never cut: like an application server
 * that still reaches an isolated master, it is how a partition loses writes.
 */
import type { Expectation, System } from '../../libs/chaos/src/types.js';
import { cut, cutOneWay, HEALED, type NetworkState } from '../../libs/chaos/src/network.js';
import type { LabRedis } from './services.js';

export interface ScenarioContext {
  system: System;
  /** Uniform in [0, 1), from the trial's seed. */
  rng: () => number;
  downAfterMs: number;
  master: LabRedis;
  replicas: LabRedis[];
  /** Watcher hosts by zone index (a, b, c). */
  watchers: string[];
  /** Hosts of each zone, a, b, c. */
  zones: string[][];
  /** Every host but `app`. */
  allHosts: string[];
  net(state: NetworkState): Promise<void>;
  sleep(ms: number): Promise<void>;
  /** Resolves once a node other than the original master has been promoted, or after `timeoutMs`. */
  waitForPromotion(timeoutMs: number): Promise<boolean>;
  /** SIGKILL then start again with its original command line (nothing persisted: it comes back empty). */
  restart(node: LabRedis): Promise<void>;
  signalWatcher(index: number, sig: NodeJS.Signals): void;
  /** Vigil only: the controller host holding the lease, signals to it, and PostgreSQL's. */
  leader(): Promise<string>;
  signalHost(host: 'c1' | 'c2' | 'pg', sig: NodeJS.Signals): void;
  restartHost(host: 'c1' | 'c2' | 'pg'): Promise<void>;
  /**
   * Vigil only: restarts an agent or a controller with its clock shifted by `offsetS` seconds (libfaketime),
   * or with the true clock when `offsetS` is undefined, and waits until it takes part again.
   */
  restartWithClock(host: 'a1' | 'a2' | 'a3' | 'c1' | 'c2', offsetS: number | undefined): Promise<void>;
  /** Vigil only: the agent on `host`'s path to the master goes through a delay proxy (restarting the agent, so its connections take it); answers the undo. */
  slowMasterPath(host: 'a1' | 'a2' | 'a3', delayMs: number, jitterMs: number): Promise<() => Promise<void>>;
  /** A planned switchover (Vigil's REST switchover, `SENTINEL FAILOVER`). */
  switchover(): Promise<void>;
}

export interface Scenario {
  name: string;
  expect: Expectation;
  /** Counts toward the "minority partitions and short pauses" goal (never a failover). */
  minority?: boolean;
  systems?: System[];
  /** Trials when `--trials` is not given. */
  trials: number;
  run(ctx: ScenarioContext): Promise<void>;
}

const between = (ctx: ScenarioContext, lo: number, hi: number) => Math.round(ctx.downAfterMs * (lo + (hi - lo) * ctx.rng()));
const pick = <T>(ctx: ScenarioContext, xs: T[]): T => xs[Math.floor(ctx.rng() * xs.length)]!;
const master = (ctx: ScenarioContext) => ctx.master.labHost;

async function holdThenHeal(ctx: ScenarioContext, state: NetworkState, ms: number): Promise<void> {
  await ctx.net(state);
  await ctx.sleep(ms);
  await ctx.net(HEALED);
}

/** Hold a fault until a promotion is seen (or long enough that one should have been), then a second more. */
async function untilFailover(ctx: ScenarioContext): Promise<void> {
  await ctx.waitForPromotion(ctx.downAfterMs * 4 + 15_000);
  await ctx.sleep(1000);
}

/** One of `hosts` restarted with its clock 10–60 s ahead or behind, for 3–4 × down-after, then restarted with the true clock. */
async function skewOneClock(ctx: ScenarioContext, hosts: ('a1' | 'a2' | 'a3' | 'c1' | 'c2')[]): Promise<void> {
  const host = pick(ctx, hosts);
  const offset = Math.round((ctx.rng() < 0.5 ? -1 : 1) * (10 + ctx.rng() * 50));
  await ctx.restartWithClock(host, offset);
  await ctx.sleep(between(ctx, 3, 4));
  await ctx.restartWithClock(host, undefined);
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'cut-one-watcher-from-master',
    expect: 'no-failover',
    minority: true,
    trials: 7,
    run: (ctx) => holdThenHeal(ctx, { drops: cut([master(ctx)], [pick(ctx, ctx.watchers)]), losses: [] }, between(ctx, 2, 3.5)),
  },
  {
    name: 'isolate-replica-zone',
    expect: 'no-failover',
    minority: true,
    trials: 7,
    run: (ctx) => {
      const zone = pick(ctx, [ctx.zones[1]!, ctx.zones[2]!]);
      const rest = ctx.allHosts.filter((h) => !zone.includes(h));
      return holdThenHeal(ctx, { drops: cut(zone, rest), losses: [] }, between(ctx, 2, 3.5));
    },
  },
  {
    name: 'pause-master-short',
    expect: 'no-failover',
    minority: true,
    trials: 7,
    async run(ctx) {
      ctx.master.signal('SIGSTOP');
      await ctx.sleep(between(ctx, 0.2, 0.7));
      ctx.master.signal('SIGCONT');
    },
  },
  {
    name: 'lossy-master-links',
    expect: 'no-failover',
    minority: true,
    trials: 7,
    run: (ctx) => {
      const percent = 20 + Math.round(ctx.rng() * 20);
      const losses = [
        { a: master(ctx), b: pick(ctx, ctx.watchers), percent },
        { a: master(ctx), b: pick(ctx, ctx.replicas).labHost, percent },
      ];
      return holdThenHeal(ctx, { drops: [], losses }, between(ctx, 3, 4));
    },
  },
  {
    name: 'flapping-watcher-link',
    expect: 'no-failover',
    minority: true,
    trials: 7,
    async run(ctx) {
      const w = pick(ctx, ctx.watchers);
      const until = Date.now() + between(ctx, 3, 4);
      while (Date.now() < until) {
        await ctx.net({ drops: cut([master(ctx)], [w]), losses: [] });
        await ctx.sleep(200 + Math.round(ctx.rng() * 400));
        await ctx.net(HEALED);
        await ctx.sleep(200 + Math.round(ctx.rng() * 400));
      }
    },
  },
  {
    name: 'one-way-master-to-watcher',
    expect: 'no-failover',
    minority: true,
    trials: 7,
    run: (ctx) => holdThenHeal(ctx, { drops: cutOneWay([master(ctx)], [pick(ctx, ctx.watchers)]), losses: [] }, between(ctx, 2, 3)),
  },
  {
    name: 'bridge-zones-a-c',
    expect: 'no-failover',
    minority: true,
    trials: 7,
    run: (ctx) => holdThenHeal(ctx, { drops: cut(ctx.zones[0]!, ctx.zones[2]!), losses: [] }, between(ctx, 2, 3.5)),
  },
  {
    name: 'pause-one-watcher',
    expect: 'no-failover',
    minority: true,
    trials: 7,
    async run(ctx) {
      const i = Math.floor(ctx.rng() * 3);
      ctx.signalWatcher(i, 'SIGSTOP');
      await ctx.sleep(between(ctx, 1, 3));
      ctx.signalWatcher(i, 'SIGCONT');
    },
  },
  {
    name: 'cut-master-from-replicas',
    expect: 'no-failover',
    trials: 3,
    run: (ctx) =>
      holdThenHeal(
        ctx,
        {
          drops: cut(
            [master(ctx)],
            ctx.replicas.map((r) => r.labHost),
          ),
          losses: [],
        },
        between(ctx, 2, 3),
      ),
  },
  {
    name: 'kill-replica',
    expect: 'no-failover',
    trials: 3,
    async run(ctx) {
      const r = pick(ctx, ctx.replicas);
      r.signal('SIGKILL');
      await ctx.sleep(between(ctx, 2, 3));
      await ctx.restart(r);
    },
  },
  {
    name: 'leader-from-postgres',
    expect: 'no-failover',
    systems: ['vigil'],
    trials: 3,
    async run(ctx) {
      const leader = await ctx.leader();
      await holdThenHeal(ctx, { drops: cut([leader], ['pg']), losses: [] }, Math.max(8000, between(ctx, 3, 4)));
    },
  },
  {
    name: 'agents-from-leader',
    expect: 'no-failover',
    systems: ['vigil'],
    trials: 3,
    async run(ctx) {
      const leader = await ctx.leader();
      await holdThenHeal(ctx, { drops: cut(ctx.watchers, [leader]), losses: [] }, between(ctx, 3, 4));
    },
  },
  {
    name: 'kill-leader-controller',
    expect: 'no-failover',
    systems: ['vigil'],
    trials: 3,
    async run(ctx) {
      const leader = (await ctx.leader()) as 'c1' | 'c2';
      ctx.signalHost(leader, 'SIGKILL');
      await ctx.sleep(Math.max(7000, between(ctx, 3, 4)));
      await ctx.restartHost(leader);
    },
  },
  {
    name: 'kill-postgres',
    expect: 'no-failover',
    systems: ['vigil'],
    trials: 3,
    async run(ctx) {
      ctx.signalHost('pg', 'SIGKILL');
      await ctx.sleep(between(ctx, 3, 4));
      await ctx.restartHost('pg');
    },
  },
  { name: 'skewed-agent-clock', expect: 'no-failover', systems: ['vigil'], trials: 3, run: (ctx) => skewOneClock(ctx, ['a1', 'a2', 'a3']) },
  { name: 'skewed-controller-clock', expect: 'no-failover', systems: ['vigil'], trials: 3, run: (ctx) => skewOneClock(ctx, ['c1', 'c2']) },
  {
    name: 'slow-master-path-one-agent',
    expect: 'no-failover',
    minority: true,
    systems: ['vigil'],
    trials: 7,
    async run(ctx) {
      const host = pick(ctx, ['a1', 'a2', 'a3'] as const);
      const delay = between(ctx, 0.05, 0.4);
      const undo = await ctx.slowMasterPath(host, delay, Math.round(delay / 2));
      try {
        await ctx.sleep(between(ctx, 3, 4));
      } finally {
        await undo();
      }
    },
  },
  {
    name: 'crash-master',
    expect: 'failover',
    trials: 3,
    async run(ctx) {
      ctx.master.signal('SIGKILL');
      await untilFailover(ctx);
      await ctx.restart(ctx.master);
    },
  },
  {
    name: 'pause-master-long',
    expect: 'failover',
    trials: 3,
    async run(ctx) {
      ctx.master.signal('SIGSTOP');
      await untilFailover(ctx);
      ctx.master.signal('SIGCONT');
    },
  },
  {
    name: 'isolate-master-zone',
    expect: 'failover',
    trials: 3,
    async run(ctx) {
      const rest = ctx.allHosts.filter((h) => !ctx.zones[0]!.includes(h));
      await ctx.net({ drops: cut(ctx.zones[0]!, rest), losses: [] });
      await untilFailover(ctx);
      await ctx.net(HEALED);
    },
  },
  {
    name: 'master-from-watchers',
    expect: 'either',
    trials: 3,
    async run(ctx) {
      const others = ctx.allHosts.filter((h) => h !== master(ctx) && !ctx.replicas.some((r) => r.labHost === h));
      await holdThenHeal(ctx, { drops: cut([master(ctx)], others), losses: [] }, between(ctx, 3, 4));
    },
  },
  {
    name: 'restart-master-empty',
    expect: 'either',
    trials: 3,
    async run(ctx) {
      await ctx.restart(ctx.master);
      await ctx.sleep(between(ctx, 2, 3));
    },
  },
  {
    name: 'switchover',
    expect: 'failover',
    trials: 3,
    async run(ctx) {
      await ctx.switchover();
      await ctx.waitForPromotion(30_000);
      await ctx.sleep(500);
    },
  },
];
