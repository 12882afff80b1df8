/**
 * `npm run openapi [file]`: writes the OpenAPI document without serving anything. It needs a
 * reachable DATABASE_URL only to boot the modules; MIGRATIONS_RUN is forced off.
 */
import 'reflect-metadata';
import { writeFile } from 'node:fs/promises';
import { createControllerApp } from '../app.js';
import { loadConfig } from '../config/config.js';
import { buildOpenApiDocument } from './openapi.js';

async function main(): Promise<void> {
  const target = process.argv[2] ?? 'openapi.json';
  const config = loadConfig({ ...process.env, MIGRATIONS_RUN: 'false', LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn' });
  const app = await createControllerApp(config);
  try {
    await writeFile(target, `${JSON.stringify(buildOpenApiDocument(app), null, 2)}\n`);
    console.log(`wrote ${target}`);
  } finally {
    await app.close();
  }
}

main().catch((err: unknown) => {
  console.error(`openapi: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
