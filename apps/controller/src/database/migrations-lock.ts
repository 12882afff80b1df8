import type { DataSource, Migration } from 'typeorm';

/** Arbitrary, fixed key of the advisory lock that serialises migrations across controllers. */
const MIGRATION_LOCK_KEY = 0x76696769; // "vigi"

/**
 * Runs pending migrations while holding a session advisory lock, so controllers starting together
 * on a fresh database migrate one after the other instead of racing into "relation already exists".
 */
export async function runMigrationsLocked(ds: DataSource): Promise<Migration[]> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      return await ds.runMigrations({ transaction: 'each' });
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}
