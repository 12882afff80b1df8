/** The systems the suite runs every scenario against. */
export type System = 'vigil' | 'sentinel';

/** What a scenario expects of the system under test. */
export type Expectation = 'failover' | 'no-failover' | 'either';

/** One trial of one scenario on one system, as the checker measured it. */
export interface TrialResult {
  scenario: string;
  system: System;
  /** 0-based trial number within the scenario. */
  trial: number;
  /** The seed this trial's random choices came from (the run's seed mixed with scenario and trial). */
  seed: number;
  expect: Expectation;
  /** Promotions the observer saw (a node turning from replica to master). */
  failovers: number;
  /** From the fault to the first promotion the observer saw, when there was one. */
  failoverMs?: number;
  /** A failover of a master that was alive (the scenario expected none). */
  falseFailover: boolean;
  /** The scenario needed a failover and none happened. */
  missedFailover: boolean;
  /** Writes acknowledged to a client. */
  acked: number;
  /** Acknowledged writes missing from the final master after healing. */
  lost: number;
  /** Writes whose outcome is unknown (timed out or cut after sending). */
  indeterminate: number;
  /** Writes acknowledged by a node after another node had been promoted (a deposed master). */
  deposedAcks: number;
  /** Milliseconds during which two nodes answered ROLE as master. */
  splitBrainMs: number;
  /** Per client path (e.g. `sentinel-ioredis`, `dns`), the longest time without an acknowledged write from the fault on. */
  outageMs: Record<string, number>;
  /** Per client path: acknowledged and lost writes, and the time's worth of acknowledged writes lost (`lostWindowMs`). */
  byPath?: Record<string, { acked: number; lost: number; lostMs?: number }>;
  /** Set when the trial could not be run to its end (setup failed, no convergence); such a trial counts as failed. */
  error?: string;
}

/** Figures of one scenario × system over its trials. */
export interface ScenarioSummary {
  scenario: string;
  system: System;
  runs: number;
  /** Trials that ended with `error`. */
  errors: number;
  failovers: number;
  falseFailovers: number;
  missedFailovers: number;
  acked: number;
  lost: number;
  /** One-sided 95 % upper bound (Clopper-Pearson) on the fraction of acknowledged writes lost. */
  lostRateUpper95: number;
  indeterminate: number;
  deposedAcks: number;
  /** Sum over trials. */
  splitBrainMs: number;
  /** Percentiles of the outage over every trial × client path. */
  outageP50Ms: number;
  outageP99Ms: number;
}
