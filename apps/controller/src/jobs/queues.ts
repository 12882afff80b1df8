import type { JobsOptions } from 'bullmq';

export type JobBackend = 'postgres' | 'redis';

/** BullMQ's backend: Redis when `REDIS_URL` is set, PostgreSQL otherwise. */
export function jobBackendOf(config: { redisUrl?: string | undefined }): JobBackend {
  return config.redisUrl ? 'redis' : 'postgres';
}

/**
 * Every queue, job name, payload and default option in one place. Jobs carry retryable side effects
 * only; the failover critical path never waits on a queue.
 */
export const QUEUES = {
  topology: 'vigil-topology',
  failover: 'vigil-failover',
  dns: 'vigil-dns',
  webhooks: 'vigil-webhooks',
} as const;

export const TOPOLOGY_JOBS = {
  /** Ask a cluster's nodes for their roles until every node has answered. */
  discoverRoles: 'discover-roles',
} as const;

export interface DiscoverRolesJob {
  clusterId: string;
  /** Correlation id of the request that caused the job. */
  requestId?: string;
}

export const FAILOVER_JOBS = {
  /** Point a replica that follows the wrong master (it was down during a failover) at the recorded master. */
  reconcileReplica: 'reconcile-replica',
} as const;

export interface ReconcileReplicaJob {
  clusterId: string;
  nodeId: string;
  /** The master it was seen following (`host:port`). */
  follows: string;
}

/** At most one waiting reconciliation per node. */
export function reconcileReplicaJobOptions(nodeId: string): JobsOptions {
  return { ...DEFAULT_JOB_OPTIONS, attempts: 5, backoff: { type: 'exponential', delay: 500 }, deduplication: { id: `reconcile-replica.${nodeId}` } };
}

export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: 1000,
  removeOnFail: false,
};

/**
 * Options for a discovery job: at most one waiting per cluster. Deduplication (not a fixed `jobId`)
 * ends with the job, so a later node that joins gets a job of its own; one added while a job runs
 * is picked up by the next (`keepLastIfActive`).
 */
export function discoverRolesJobOptions(clusterId: string): JobsOptions {
  return { ...DEFAULT_JOB_OPTIONS, deduplication: { id: `discover-roles.${clusterId}`, keepLastIfActive: true } };
}

export const WEBHOOK_JOBS = {
  /** POST one event to one webhook; a failed attempt is retried with backoff. */
  deliver: 'deliver',
} as const;

export interface DeliverWebhookJob {
  webhookId: string;
  eventId: string;
  /** `X-Vigil-Delivery`: the same for every attempt, so the receiver can tell a retry from a new event. */
  deliveryId: string;
}

/** Attempts per delivery: with the default 1 s base, retries over about two minutes. */
export const WEBHOOK_ATTEMPTS = 8;

/**
 * One job per webhook and event: the job id makes a dispatcher that runs again over the same events
 * (after a crash or a leader change) add nothing twice. Failed jobs are kept a week (the delivery log
 * in PostgreSQL is the record).
 */
export function deliverWebhookJobOptions(webhookId: string, eventId: string, retryBaseMs: number): JobsOptions {
  return {
    ...DEFAULT_JOB_OPTIONS,
    jobId: `webhook.${webhookId}.${eventId}`,
    attempts: WEBHOOK_ATTEMPTS,
    backoff: { type: 'exponential', delay: retryBaseMs },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}
