import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { FAILOVER_JOBS, QUEUES, type ReconcileReplicaJob } from '../jobs/queues.js';
import { FailoverService } from './failover.service.js';

/** Runs the failover queue's retryable side effects. A job that throws is retried with backoff. */
@Processor(QUEUES.failover)
export class FailoverProcessor extends WorkerHost {
  constructor(private readonly failovers: FailoverService) {
    super();
  }

  async process(job: Job<ReconcileReplicaJob>): Promise<string> {
    switch (job.name) {
      case FAILOVER_JOBS.reconcileReplica:
        return this.failovers.reconcileReplica(job.data);
      default:
        throw new Error(`unknown job ${job.name} on ${QUEUES.failover}`);
    }
  }
}
