import { Processor, WorkerHost } from '@nestjs/bullmq';
import type { Job } from 'bullmq';
import { QUEUES } from '../jobs/queues.js';
import { DNS_JOBS, DnsUpdateService, type PublishRecordJob } from './dns-update.service.js';

/** Runs the external DNS updates; a job that throws is retried with backoff. */
@Processor(QUEUES.dns)
export class DnsUpdateProcessor extends WorkerHost {
  constructor(private readonly updates: DnsUpdateService) {
    super();
  }

  async process(job: Job<PublishRecordJob>): Promise<string> {
    if (job.name !== DNS_JOBS.publishRecord) throw new Error(`unknown job ${job.name} on ${QUEUES.dns}`);
    return this.updates.publish(job.data, job.attemptsMade + 1);
  }
}
