import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

const base = { DATABASE_URL: 'postgres://u@localhost/db', VIGIL_SECRET_KEY: 'ab'.repeat(32) };

describe('loadConfig', () => {
  it('applies defaults', () => {
    const c = loadConfig(base);
    expect(c.httpPort).toBe(8080);
    expect(c.migrationsRun).toBe(true);
    expect(c.redisUrl).toBeUndefined();
    expect(c.secretKey.length).toBe(32);
    expect(c.webhookRetryBaseMs).toBe(1000);
  });

  it.each([
    [{ DATABASE_URL: undefined }, 'invalid configuration: DATABASE_URL is required'],
    [{ DATABASE_URL: 'mysql://x/y' }, 'DATABASE_URL must use postgres: or postgresql:'],
    [{ HTTP_PORT: 'eighty' }, 'HTTP_PORT must be an integer'],
    [{ HTTP_PORT: '70000' }, 'HTTP_PORT must be between 0 and 65535'],
    [{ VIGIL_SECRET_KEY: 'short' }, 'VIGIL_SECRET_KEY must be 32 bytes'],
    [{ MIGRATIONS_RUN: 'maybe' }, 'MIGRATIONS_RUN must be true or false'],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL must use redis: or rediss:'],
    [{ VIGIL_ADMIN_TOKEN: 'short' }, 'VIGIL_ADMIN_TOKEN must be at least 16 characters'],
    [{ DNS_ZONE: 'no-dot' }, 'DNS_ZONE must be a fully qualified domain name'],
    [{ WEBHOOK_RETRY_BASE_MS: '5' }, 'WEBHOOK_RETRY_BASE_MS must be between 10 and 3600000'],
  ])('names the bad variable: %j', (override, message) => {
    expect(() => loadConfig({ ...base, ...override })).toThrow(message);
  });
});
