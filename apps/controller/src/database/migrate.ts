/**
 * `npm run migration:run` / `migration:revert`: applies or reverts migrations against DATABASE_URL.
 * The controller also runs them at start unless MIGRATIONS_RUN=false.
 */
import 'reflect-metadata';
import { createDataSource } from './data-source.js';
import { runMigrationsLocked } from './migrations-lock.js';

async function main(): Promise<void> {
  const command = process.argv[2] ?? 'run';
  const url = process.env['DATABASE_URL'];
  if (!url) {
    console.error('invalid configuration: DATABASE_URL is required');
    process.exit(2);
  }
  const ds = createDataSource(url);
  await ds.initialize();
  try {
    if (command === 'run') {
      const applied = await runMigrationsLocked(ds);
      console.log(applied.length ? `applied: ${applied.map((m) => m.name).join(', ')}` : 'database is up to date');
    } else if (command === 'revert') {
      await ds.undoLastMigration({ transaction: 'each' });
      console.log('reverted the last migration');
    } else {
      console.error(`unknown command ${command}: use run or revert`);
      process.exitCode = 2;
    }
  } finally {
    await ds.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(`migration failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
