import { DataSource, type DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../../../migrations/index.js';
import { AgentEntity } from '../agents/agent.entity.js';
import { EventEntity } from '../audit/event.entity.js';
import { ApiTokenEntity } from '../auth/api-token.entity.js';
import { WebhookCursorEntity } from '../events-out/webhook-cursor.entity.js';
import { WebhookDeliveryEntity } from '../events-out/webhook-delivery.entity.js';
import { WebhookEntity } from '../events-out/webhook.entity.js';
import { FailoverStepEntity } from '../failover/failover-step.entity.js';
import { FailoverEntity } from '../failover/failover.entity.js';
import { IdempotencyKeyEntity } from '../idempotency/idempotency-key.entity.js';
import { ControllerLeaseEntity } from '../leadership/controller-lease.entity.js';
import { ControllerPeerEntity } from '../sentinel/controller-peer.entity.js';
import { ClusterEntity } from '../topology/cluster.entity.js';
import { NodeEntity } from '../topology/node.entity.js';

export const ENTITIES = [
  ApiTokenEntity,
  ClusterEntity,
  NodeEntity,
  AgentEntity,
  FailoverEntity,
  FailoverStepEntity,
  EventEntity,
  ControllerLeaseEntity,
  IdempotencyKeyEntity,
  WebhookEntity,
  WebhookDeliveryEntity,
  WebhookCursorEntity,
  ControllerPeerEntity,
];

/** TypeORM options shared by the controller, the migration command and the tests. Never `synchronize`. */
export function dataSourceOptions(databaseUrl: string): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'typeorm_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    uuidExtension: 'pgcrypto',
    logging: ['error'],
    extra: { max: 10, application_name: 'vigil-controller' },
  };
}

/** A data source for one-off work (the migration command, tests). */
export function createDataSource(databaseUrl: string): DataSource {
  return new DataSource(dataSourceOptions(databaseUrl));
}
