import type { TestProject } from 'vitest/node';
import { startPostgres, type PostgresServer } from '../../libs/testing/src/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Administrative URL of the test PostgreSQL server; each test file makes its own database there. */
    pgAdminUrl: string;
  }
}

let server: PostgresServer | undefined;

/** One real PostgreSQL for the whole run: DATABASE_URL's server when given, else a fresh temp cluster. */
export async function setup(project: TestProject): Promise<void> {
  const given = process.env['DATABASE_URL'];
  if (given) {
    const admin = new URL(given);
    admin.pathname = '/postgres';
    project.provide('pgAdminUrl', admin.toString());
    return;
  }
  server = await startPostgres();
  project.provide('pgAdminUrl', server.adminUrl);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}
