/**
 * `npm run secrets:reseal`: after VIGIL_SECRET_KEY was rotated (the new key in VIGIL_SECRET_KEY, the
 * previous ones in VIGIL_SECRET_KEYS_OLD), re-seals every stored secret under the current key, in one
 * transaction: all or nothing. Afterwards the old keys can be dropped from VIGIL_SECRET_KEYS_OLD.
 */
import 'reflect-metadata';
import { ConfigError, loadConfig } from '../config/config.js';
import { SecretBox } from '../topology/secret-box.js';
import { createDataSource } from './data-source.js';

/** Every column holding a sealed secret. */
export const SEALED_COLUMNS = [
  { table: 'clusters', column: 'redis_password_sealed' },
  { table: 'webhooks', column: 'secret_sealed' },
] as const;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`invalid configuration: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const box = new SecretBox(config.secretKey, config.secretKeysOld);
  const ds = createDataSource(config.databaseUrl);
  await ds.initialize();
  try {
    const counts = await ds.transaction(async (em) => {
      const out: string[] = [];
      for (const { table, column } of SEALED_COLUMNS) {
        const rows = await em.query<{ id: string; sealed: string }[]>(`SELECT id, ${column} AS sealed FROM ${table} WHERE ${column} IS NOT NULL FOR UPDATE`);
        let resealed = 0;
        for (const row of rows) {
          if (box.isCurrent(row.sealed)) continue;
          let plaintext: string;
          try {
            plaintext = box.open(row.sealed);
          } catch (err) {
            throw new Error(`${table} ${row.id}: ${(err as Error).message}`, { cause: err });
          }
          await em.query(`UPDATE ${table} SET ${column} = $1 WHERE id = $2`, [box.seal(plaintext), row.id]);
          resealed++;
        }
        out.push(`${table}.${column}: ${resealed} re-sealed, ${rows.length - resealed} already under key ${box.currentKeyId}`);
      }
      return out;
    });
    for (const line of counts) console.log(line);
  } finally {
    await ds.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(`re-seal failed, nothing changed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
