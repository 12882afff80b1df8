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
    expect(c.agentReportFields).toEqual(['repl.lastIoS']);
  });

  it('reads the optional agent report fields to accept: a list, or none for the baseline', () => {
    expect(loadConfig({ ...base, AGENT_REPORT_FIELDS: 'none' }).agentReportFields).toEqual([]);
    expect(loadConfig({ ...base, AGENT_REPORT_FIELDS: ' repl.lastIoS , repl.lastIoS' }).agentReportFields).toEqual(['repl.lastIoS']);
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
    [{ DNS_PORT: '5353' }, 'DNS_ZONE is required with DNS_PORT'],
    [{ DNS_TTL: '-1' }, 'DNS_TTL must be an integer'],
    [{ DNS_UPDATE_SERVER: 'ns1:99999', DNS_UPDATE_ZONE: 'example.' }, 'DNS_UPDATE_SERVER must be host or host:port'],
    [{ DNS_UPDATE_SERVER: 'ns1' }, 'DNS_UPDATE_ZONE is required with DNS_UPDATE_SERVER'],
    [{ DNS_UPDATE_SERVER: 'ns1', DNS_UPDATE_ZONE: 'example.', DNS_UPDATE_KEY: 'md5:k:abc=' }, 'DNS_UPDATE_KEY must be hmac-sha256:<key name>:<base64 secret>'],
    [{ DNS_UPDATE_SERVER: 'ns1', DNS_UPDATE_ZONE: 'example.', DNS_UPDATE_KEY: 'hmac-sha256:k:YWJj' }, 'DNS_UPDATE_KEY secret must be at least 16 bytes'],
    [{ WEBHOOK_RETRY_BASE_MS: '5' }, 'WEBHOOK_RETRY_BASE_MS must be between 10 and 3600000'],
    [{ AGENT_REPORT_FIELDS: 'repl.lastIoS,repl.future' }, 'AGENT_REPORT_FIELDS must be none or a comma-separated list of repl.lastIoS, got "repl.future"'],
  ])('names the bad variable: %j', (override, message) => {
    expect(() => loadConfig({ ...base, ...override })).toThrow(message);
  });

  it('reads the publishing settings', () => {
    const secret = Buffer.alloc(32, 7).toString('base64');
    const c = loadConfig({
      ...base,
      HTTP_HOST: '10.0.0.5',
      SENTINEL_PORT: '26379',
      DNS_PORT: '5353',
      DNS_ZONE: 'Redis.Example.',
      DNS_UPDATE_SERVER: '[2001:db8::1]:5300',
      DNS_UPDATE_ZONE: 'corp.example.',
      DNS_UPDATE_KEY: `hmac-sha256:vigil-key:${secret}`,
    });
    expect(c.publishHost).toBe('10.0.0.5');
    expect(c.sentinelPort).toBe(26379);
    expect(c.dnsZone).toBe('redis.example.');
    expect(c.dnsTtl).toBe(5);
    expect(c.dnsUpdate).toMatchObject({ server: '2001:db8::1', port: 5300, zone: 'corp.example.', key: { name: 'vigil-key.', algorithm: 'hmac-sha256' } });
    expect(c.dnsUpdate!.key!.secret.length).toBe(32);
    expect(loadConfig({ ...base, DNS_UPDATE_SERVER: 'ns1.corp', DNS_UPDATE_ZONE: 'corp.' }).dnsUpdate).toMatchObject({ port: 53, key: undefined });
  });
});
