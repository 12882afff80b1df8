import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type EntityManager, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import { EventEntity } from './event.entity.js';

/** What a caller records; `at` and `id` come from the database. */
export interface EventInput {
  type: string;
  actor: string;
  cluster?: { id: string; name: string };
  data?: Record<string, unknown>;
}

export interface EventQuery {
  cluster?: string;
  type?: string;
  since?: Date;
  until?: Date;
  /** Keyset cursor: return events with an id greater than this. */
  after?: string;
  limit: number;
}

/** The append-only event log. Writes join the caller's transaction when given its EntityManager. */
@Injectable()
export class AuditService {
  constructor(@InjectRepository(EventEntity) private readonly events: Repository<EventEntity>) {}

  record(input: EventInput, em?: EntityManager): Promise<void> {
    return this.recordMany([input], em);
  }

  /** Several events in one INSERT, in the given order (ids follow it). */
  async recordMany(inputs: EventInput[], em?: EntityManager): Promise<void> {
    if (inputs.length === 0) return;
    const repo = em ? em.getRepository(EventEntity) : this.events;
    // jsonb columns trip TypeORM's deep-partial typing; the rows are whole entities.
    await repo.insert(
      inputs.map((input) =>
        repo.create({
          type: input.type,
          actor: input.actor,
          clusterId: input.cluster?.id ?? null,
          clusterName: input.cluster?.name ?? null,
          data: input.data ?? {},
        }),
      ) as QueryDeepPartialEntity<EventEntity>[],
    );
  }

  /**
   * The id of a cluster's newest event up to `atMost` (null when it has none). Ids follow insertion and
   * `at` the transaction's start, so the newest is looked for among the 50 latest by `at` (the index).
   */
  async lastClusterEventId(clusterName: string, atMost: string): Promise<string | null> {
    const [row] = await this.events.query(
      `SELECT max(id)::text AS id FROM (SELECT id FROM events WHERE cluster_name = $1 AND id <= $2 ORDER BY at DESC LIMIT 50) latest`,
      [clusterName, atMost],
    );
    return (row as { id: string | null } | undefined)?.id ?? null;
  }

  /** Events in id order (which is commit order for one writer), one page plus whether more follow. */
  async query(q: EventQuery): Promise<{ items: EventEntity[]; next: string | null }> {
    const qb = this.events
      .createQueryBuilder('e')
      .orderBy('e.id', 'ASC')
      .limit(q.limit + 1);
    if (q.cluster !== undefined) qb.andWhere('e.cluster_name = :cluster', { cluster: q.cluster });
    if (q.type !== undefined) qb.andWhere('e.type = :type', { type: q.type });
    if (q.since !== undefined) qb.andWhere('e.at >= :since', { since: q.since });
    if (q.until !== undefined) qb.andWhere('e.at < :until', { until: q.until });
    if (q.after !== undefined) qb.andWhere('e.id > :after', { after: q.after });
    const rows = await qb.getMany();
    const more = rows.length > q.limit;
    const items = more ? rows.slice(0, q.limit) : rows;
    return { items, next: more ? items[items.length - 1]!.id : null };
  }
}
