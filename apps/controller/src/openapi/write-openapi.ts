/**
 * `npm run openapi [file]`: writes the OpenAPI document. It builds the module graph in Nest's preview
 * mode, where no provider is instantiated: nothing connects to a database or to Redis.
 */
import 'reflect-metadata';
import { writeFile } from 'node:fs/promises';
import { NestFactory } from '@nestjs/core';
import { createHttpAdapter } from '../app.js';
import { AppModule } from '../app.module.js';
import { loadConfig } from '../config/config.js';
import { applyApiPrefix, buildOpenApiDocument } from './openapi.js';

async function main(): Promise<void> {
  const target = process.argv[2] ?? 'openapi.json';
  // Placeholders: preview mode never uses them, but the modules are wired from a valid config.
  const config = loadConfig({ DATABASE_URL: 'postgres://unused@127.0.0.1:1/unused', VIGIL_SECRET_KEY: '0'.repeat(64) });
  const app = await NestFactory.create(AppModule.forRoot(config), createHttpAdapter(), { preview: true, logger: false });
  applyApiPrefix(app);
  await writeFile(target, `${JSON.stringify(buildOpenApiDocument(app), null, 2)}\n`);
  console.log(`wrote ${target}`);
  await app.close();
}

main().catch((err: unknown) => {
  console.error(`openapi: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
