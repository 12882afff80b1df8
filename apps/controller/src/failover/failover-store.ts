import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService, type EventInput } from '../audit/audit.service.js';
import { updatedRows } from '../database/transformers.js';
import { FailoverStepEntity } from './failover-step.entity.js';
import { FAILOVER_TRIGGERS, FailoverEntity, type FailoverPhase } from './failover.entity.js';

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

/**
 * The fencing token of a failover: the cluster epoch it runs under and the lease term of the leader
 * that runs it. Every write the run makes is a compare-and-set on both, in SQL.
 */
export interface FenceToken extends LeaseClaim {
  clusterId: string;
  epoch: number;
}

/**
 * Raises the cluster's epoch by one from `from`, only for the holder of a live lease in its term; throws
 * `FencedError` (with `why()`) when either moved on. Answers the new epoch.
 */
async function raiseEpoch(em: EntityManager, clusterId: string, from: number, lease: LeaseClaim, why: () => string): Promise<number> {
  const raised = updatedRows<{ epoch: string }>(
    await em.query(
      `UPDATE clusters SET epoch = epoch + 1, updated_at = now()
        WHERE id = $1 AND epoch = $2
          AND EXISTS (SELECT 1 FROM controller_leases WHERE scope = 'leader' AND holder = $3 AND term = $4 AND expires_at > now())
      RETURNING epoch::text AS epoch`,
      [clusterId, from, lease.holder, lease.term],
    ),
  );
  if (raised.length === 0) throw new FencedError(why());
  return Number(raised[0]!.epoch);
}

/** SQL condition: the cluster is still at the token's epoch and the token's holder still holds the lease in its term. */
const FENCE = (c: number, e: number, h: number, t: number) => `
  EXISTS (SELECT 1 FROM clusters WHERE id = $${c} AND epoch = $${e})
  AND EXISTS (SELECT 1 FROM controller_leases WHERE scope = 'leader' AND holder = $${h} AND term = $${t} AND expires_at > now())`;

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
  async begin(input: BeginFailover): Promise<{ id: string; epoch: number; startedAt: Date; fence: FenceToken }> {
    return this.db.transaction(async (em) => {
      const epoch = await raiseEpoch(
        em,
        input.cluster.id,
        input.expectedEpoch,
        input.lease,
        () => `cluster ${input.cluster.name} is no longer at epoch ${input.expectedEpoch}, or this controller no longer holds the lease`,
      );
      const startedAt = new Date();
      const failover = em.create(FailoverEntity, {
        clusterId: input.cluster.id,
        clusterName: input.cluster.name,
        trigger: input.trigger,
        epoch,
        fromAddress: input.fromAddress,
        toAddress: null,
        outcome: 'running',
        state: 'decided',
        term: input.lease.term,
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
      return { id: failover.id, epoch, startedAt, fence: { clusterId: input.cluster.id, epoch, holder: input.lease.holder, term: input.lease.term } };
    });
  }

  /**
   * A leader takes over a failover another left running: raises the epoch from the record's (so every
   * write of the previous leader, even one paused and waking now, is refused) and makes the record its own.
   */
  async resume(record: FailoverEntity, lease: LeaseClaim, event: EventInput): Promise<FenceToken> {
    return this.db.transaction(async (em) => {
      const epoch = await raiseEpoch(
        em,
        record.clusterId!,
        record.epoch,
        lease,
        () => `failover ${record.id}: the epoch moved on from ${record.epoch}, or this controller no longer leads`,
      );
      await em.query(`UPDATE failovers SET epoch = $2, term = $3 WHERE id = $1 AND outcome = 'running'`, [record.id, epoch, lease.term]);
      await this.audit.record({ ...event, data: { ...event.data, failoverId: record.id, epoch, previousEpoch: record.epoch } }, em);
      return { clusterId: record.clusterId!, epoch, holder: lease.holder, term: lease.term };
    });
  }

  /** Persists the next phase (and the chosen node, when it changes); throws `FencedError` when the token is stale. */
  async transition(
    failoverId: string,
    fence: FenceToken,
    state: FailoverPhase,
    target?: { address: string | null; runId: string | null; offset: number | null },
  ): Promise<void> {
    const rows = updatedRows<{ id: string }>(
      await this.db.query(
        `UPDATE failovers SET state = $6${target ? ', target_address = $7, target_run_id = $8, target_offset = $9' : ''}
          WHERE id = $5 AND outcome = 'running' AND ${FENCE(1, 2, 3, 4)}
        RETURNING id`,
        [fence.clusterId, fence.epoch, fence.holder, fence.term, failoverId, state, ...(target ? [target.address, target.runId, target.offset] : [])],
      ),
    );
    if (rows.length === 0)
      throw new FencedError(`failover ${failoverId}: not written (${state}): epoch ${fence.epoch} or term ${fence.term} is no longer current`);
  }

  /** A step of the run itself, fenced like every other write of the run. */
  async fencedStep(
    failoverId: string,
    fence: FenceToken,
    name: string,
    status: FailoverStepEntity['status'],
    at: Date,
    detail: Record<string, unknown>,
  ): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const rows = await this.db.query<{ seq: number }[]>(
          `INSERT INTO failover_steps (failover_id, seq, name, status, at, detail)
           SELECT $5, (SELECT coalesce(max(seq), 0) + 1 FROM failover_steps WHERE failover_id = $5), $6, $7, $8, $9::jsonb
            WHERE ${FENCE(1, 2, 3, 4)}
          RETURNING seq`,
          [fence.clusterId, fence.epoch, fence.holder, fence.term, failoverId, name, status, at, JSON.stringify(detail)],
        );
        if (rows.length === 0)
          throw new FencedError(`failover ${failoverId}: step ${name} not written: epoch ${fence.epoch} or term ${fence.term} is no longer current`);
        return;
      } catch (err) {
        if ((err as { driverError?: { code?: string } }).driverError?.code !== '23505' || attempt >= 10) throw err;
      }
    }
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
   * Records the new master under the failover's fencing token and moves the record to `recorded`, in one
   * transaction: the promoted node becomes master, every other node of the cluster a replica. Nothing is
   * written (`FencedError`) when the epoch or the lease term moved on, even at an equal epoch.
   */
  async recordMaster(failoverId: string, fence: FenceToken, masterId: string, event: EventInput): Promise<void> {
    await this.db.transaction(async (em) => {
      const rows = updatedRows<{ id: string }>(
        await em.query(
          `UPDATE nodes SET role = CASE WHEN id = $5 THEN 'master' ELSE 'replica' END, role_epoch = $2, role_checked_at = now()
            WHERE cluster_id = $1 AND ${FENCE(1, 2, 3, 4)}
          RETURNING id`,
          [fence.clusterId, fence.epoch, fence.holder, fence.term, masterId],
        ),
      );
      if (rows.length === 0)
        throw new FencedError(`failover ${failoverId}: master not recorded: epoch ${fence.epoch} or term ${fence.term} is no longer current`);
      await em.query(`UPDATE failovers SET state = 'recorded' WHERE id = $1`, [failoverId]);
      await this.audit.record(event, em);
    });
  }

  /**
   * Closes the record with its outcome and event. Fenced when a token is given (the run's own end); a
   * superseded record is closed by the next leader without one.
   */
  async finish(
    failoverId: string,
    outcome: 'succeeded' | 'failed' | 'aborted',
    toAddress: string | null,
    error: string | null,
    event: EventInput,
    fence?: FenceToken,
  ): Promise<void> {
    const state: FailoverPhase = outcome === 'succeeded' ? 'done' : outcome;
    await this.db.transaction(async (em) => {
      const params: unknown[] = [failoverId, outcome, state, toAddress, error];
      const rows = updatedRows<{ id: string }>(
        await em.query(
          `UPDATE failovers SET outcome = $2, state = $3, to_address = $4, error = $5, finished_at = now()
            WHERE id = $1 AND outcome = 'running'${fence ? ` AND ${FENCE(6, 7, 8, 9)}` : ''}
          RETURNING id`,
          fence ? [...params, fence.clusterId, fence.epoch, fence.holder, fence.term] : params,
        ),
      );
      if (rows.length === 0) throw new FencedError(`failover ${failoverId}: not closed as ${outcome}: it is no longer running under this token`);
      await this.audit.record(event, em);
    });
  }

  /**
   * The running failover of a cluster, when the last *successful* one finished (cooldown starts only
   * after a success) and the automatic failures since then (for the retry backoff).
   */
  async history(
    clusterId: string,
  ): Promise<{ running: FailoverEntity | null; lastSucceededAt: Date | null; failuresSince: number; lastFailedAt: Date | null }> {
    const repo = this.db.getRepository(FailoverEntity);
    const running = await repo.findOne({ where: { clusterId, outcome: 'running' }, order: { startedAt: 'DESC' } });
    const [row] = await this.db.query<{ ok: Date | null; failed: Date | null; failures: string }[]>(
      `WITH last_ok AS (SELECT max(finished_at) AS at FROM failovers WHERE cluster_id = $1 AND outcome = 'succeeded')
       SELECT (SELECT at FROM last_ok) AS ok,
              max(finished_at) FILTER (WHERE outcome = 'failed') AS failed,
              count(*) FILTER (WHERE outcome = 'failed')::text AS failures
         FROM failovers
        WHERE cluster_id = $1 AND trigger = 'auto' AND finished_at > coalesce((SELECT at FROM last_ok), '-infinity')`,
      [clusterId],
    );
    return { running, lastSucceededAt: row?.ok ?? null, failuresSince: Number(row?.failures ?? 0), lastFailedAt: row?.failed ?? null };
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
