import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { FAILOVER_JOBS, QUEUES, type ReconcileReplicaJob } from '../jobs/queues.js';
import { NodeReconciler } from './node-reconciler.service.js';

/** Runs the failover queue's retryable side effects. A job that throws is retried with backoff. */
@Processor(QUEUES.failover)
export class FailoverProcessor extends WorkerHost {
  constructor(private readonly reconciler: NodeReconciler) {
    super();
  }

  async process(job: Job<ReconcileReplicaJob>): Promise<string> {
    switch (job.name) {
      case FAILOVER_JOBS.reconcileReplica:
        return this.reconciler.reconcileReplica(job.data);
      default:
        throw new Error(`unknown job ${job.name} on ${QUEUES.failover}`);
    }
  }
}
