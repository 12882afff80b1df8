import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The delivery log is pruned by age (`WEBHOOK_DELIVERY_RETENTION_DAYS`): index its time. */
export class DeliveryRetention1764633600000 implements MigrationInterface {
  name = 'DeliveryRetention1764633600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX "ix_webhook_deliveries_at" ON "webhook_deliveries" ("at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "ix_webhook_deliveries_at"`);
  }
}
