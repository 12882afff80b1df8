import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService, type EventInput } from '../audit/audit.service.js';
import { updatedRows } from '../database/transformers.js';
import { FailoverStepEntity } from './failover-step.entity.js';
import { FAILOVER_TRIGGERS, FailoverEntity } from './failover.entity.js';

/** The epoch or the lease moved on: this controller must not act for the cluster. */
export class FencedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FencedError';
  }
}

export interface LeaseClaim {
  holder: string;
  term: number;
}

export interface BeginFailover {
  cluster: { id: string; name: string };
  expectedEpoch: number;
  trigger: (typeof FAILOVER_TRIGGERS)[number];
  fromAddress: string | null;
  actor: string;
  lease: LeaseClaim;
  event: Omit<EventInput, 'type' | 'actor' | 'cluster'>;
}

/**
 * The failover records and the fenced writes of a failover. Every write that changes what the cluster
 * is (the epoch, the roles) is conditional in the database: the epoch is raised only by the current
 * lease holder from the epoch it read, and role writes carry the epoch they were decided under (a
 * trigger refuses older ones).
 */
@Injectable()
export class FailoverStore {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly audit: AuditService,
  ) {}

  /** Raises the epoch and opens the failover record in one transaction; throws `FencedError` if either moved on. */
  async begin(input: BeginFailover): Promise<{ id: string; epoch: number; startedAt: Date }> {
    return this.db.transaction(async (em) => {
      const raised = updatedRows<{ epoch: string }>(
        await em.query(
          `UPDATE clusters SET epoch = epoch + 1, updated_at = now()
          WHERE id = $1 AND epoch = $2
            AND EXISTS (SELECT 1 FROM controller_leases WHERE scope = 'leader' AND holder = $3 AND term = $4 AND expires_at > now())
          RETURNING epoch::text AS epoch`,
          [input.cluster.id, input.expectedEpoch, input.lease.holder, input.lease.term],
        ),
      );
      if (raised.length === 0) {
        throw new FencedError(`cluster ${input.cluster.name} is no longer at epoch ${input.expectedEpoch}, or this controller no longer holds the lease`);
      }
      const epoch = Number(raised[0]!.epoch);
      const startedAt = new Date();
      const failover = em.create(FailoverEntity, {
        clusterId: input.cluster.id,
        clusterName: input.cluster.name,
        trigger: input.trigger,
        epoch,
        fromAddress: input.fromAddress,
        toAddress: null,
        outcome: 'running',
        error: null,
        actor: input.actor,
        startedAt,
        finishedAt: null,
      });
      await em.save(failover);
      await this.audit.record(
        {
          type: 'failover.started',
          actor: input.actor,
          cluster: input.cluster,
          data: { failoverId: failover.id, epoch, trigger: input.trigger, ...input.event.data },
        },
        em,
      );
      return { id: failover.id, epoch, startedAt };
    });
  }

  /**
   * Appends a step, numbered next in the database: the run and the side effects beside it (external DNS
   * jobs) write steps of one failover at the same time; the one whose number was taken tries again.
   */
  async step(
    failoverId: string,
    name: string,
    status: FailoverStepEntity['status'],
    at: Date = new Date(),
    detail: Record<string, unknown> = {},
  ): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.db.query(
          `INSERT INTO failover_steps (failover_id, seq, name, status, at, detail)
           SELECT $1, coalesce(max(seq), 0) + 1, $2, $3, $4, $5::jsonb FROM failover_steps WHERE failover_id = $1`,
          [failoverId, name, status, at, JSON.stringify(detail)],
        );
        return;
      } catch (err) {
        if ((err as { driverError?: { code?: string } }).driverError?.code !== '23505' || attempt >= 10) throw err;
      }
    }
  }

  /**
   * Records the new master under the failover's epoch: the promoted node becomes master, every other
   * node of the cluster a replica. The database refuses it if the epoch moved on.
   */
  async recordMaster(clusterId: string, epoch: number, masterId: string, event: EventInput): Promise<void> {
    await this.db.transaction(async (em) => {
      await em.query(
        `UPDATE nodes SET role = CASE WHEN id = $2 THEN 'master' ELSE 'replica' END, role_epoch = $3, role_checked_at = now()
          WHERE cluster_id = $1`,
        [clusterId, masterId, epoch],
      );
      await this.audit.record(event, em);
    });
  }

  async finish(
    failoverId: string,
    outcome: 'succeeded' | 'failed' | 'aborted',
    toAddress: string | null,
    error: string | null,
    event: EventInput,
  ): Promise<void> {
    await this.db.transaction(async (em) => {
      await em.update(FailoverEntity, { id: failoverId }, { outcome, toAddress, error, finishedAt: new Date() });
      await this.audit.record(event, em);
    });
  }

  /** The running failover of a cluster and when the last one finished. */
  async history(clusterId: string): Promise<{ running: FailoverEntity | null; lastFinishedAt: Date | null }> {
    const repo = this.db.getRepository(FailoverEntity);
    const running = await repo.findOne({ where: { clusterId, outcome: 'running' }, order: { startedAt: 'DESC' } });
    const [row] = await this.db.query<{ at: Date | null }[]>(`SELECT max(finished_at) AS at FROM failovers WHERE cluster_id = $1`, [clusterId]);
    return { running, lastFinishedAt: row?.at ?? null };
  }

  /** Every failover still marked running, oldest first. */
  runningAll(): Promise<FailoverEntity[]> {
    return this.db.getRepository(FailoverEntity).find({ where: { outcome: 'running' }, order: { startedAt: 'ASC' } });
  }

  async record(event: EventInput): Promise<void> {
    await this.audit.record(event);
  }

  get(id: string): Promise<FailoverEntity | null> {
    return this.db.getRepository(FailoverEntity).findOne({ where: { id }, relations: { steps: true }, order: { steps: { seq: 'ASC' } } });
  }

  list(clusterName: string, limit: number): Promise<FailoverEntity[]> {
    return this.db.getRepository(FailoverEntity).find({ where: { clusterName }, order: { startedAt: 'DESC' }, take: limit });
  }
}
