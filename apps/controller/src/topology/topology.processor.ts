import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import { type DiscoverRolesJob, QUEUES, TOPOLOGY_JOBS } from '../jobs/queues.js';
import { RoleDiscoveryService } from './role-discovery.service.js';

/** Runs the topology queue's jobs. A job that throws is retried with the registry's backoff. */
@Processor(QUEUES.topology)
export class TopologyProcessor extends WorkerHost {
  private readonly logger = new Logger(TopologyProcessor.name);

  constructor(private readonly discovery: RoleDiscoveryService) {
    super();
  }

  async process(job: Job<DiscoverRolesJob>): Promise<{ complete: boolean }> {
    switch (job.name) {
      case TOPOLOGY_JOBS.discoverRoles: {
        const complete = await this.discovery.discover(job.data.clusterId);
        if (!complete) throw new Error(`some nodes of cluster ${job.data.clusterId} did not answer yet`);
        this.logger.log({ clusterId: job.data.clusterId, requestId: job.data.requestId, attempt: job.attemptsMade + 1 }, 'roles discovered');
        return { complete };
      }
      default:
        throw new Error(`unknown job ${job.name} on ${QUEUES.topology}`);
    }
  }
}
