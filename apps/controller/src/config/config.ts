import { randomUUID } from 'node:crypto';
import { isOptionalReportField, OPTIONAL_REPORT_FIELDS, type OptionalReportField } from '../../../../libs/contracts/src/index.js';

/**
 * The controller's configuration, read once from the environment at boot. Every variable is checked
 * here; a bad one stops the process with one line naming it (see `loadConfig`).
 */
export interface ControllerConfig {
  readonly databaseUrl: string;
  readonly redisUrl: string | undefined;
  readonly httpPort: number;
  readonly httpHost: string;
  readonly sentinelPort: number | undefined;
  /** Interface the Sentinel-compatible endpoint and the DNS responder listen on. */
  readonly publishHost: string;
  /** `requirepass` of the Sentinel-compatible endpoint (AUTH / HELLO AUTH). */
  readonly sentinelPassword: string | undefined;
  /** Client connections the Sentinel endpoint serves at once (Redis' maxclients); more are told and closed. */
  readonly sentinelMaxClients: number;
  /** Address other replicas' `SENTINEL sentinels` give for this one (like Sentinel's announce-ip). */
  readonly sentinelAnnounceIp: string | undefined;
  readonly dnsPort: number | undefined;
  readonly dnsZone: string | undefined;
  /** TTL of the built-in responder's answers and of RFC 2136 records, in seconds. */
  readonly dnsTtl: number;
  /** RFC 2136 dynamic updates to an external authoritative server, when configured. */
  readonly dnsUpdate: DnsUpdateConfig | undefined;
  readonly controllerName: string;
  readonly adminToken: string | undefined;
  /** 32-byte key for AES-256-GCM encryption of Redis credentials at rest. */
  readonly secretKey: Buffer;
  /** Earlier keys, for opening secrets sealed before a rotation (`VIGIL_SECRET_KEYS_OLD`). */
  readonly secretKeysOld: readonly Buffer[];
  readonly migrationsRun: boolean;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly agentHeartbeatIntervalMs: number;
  readonly agentStaleAfterMs: number;
  /** Timeout for the controller's own short conversations with Redis nodes. */
  readonly redisAdminTimeoutMs: number;
  readonly bodyLimitBytes: number;
  /** Failed authentications allowed per client address within `authFailureWindowMs` before 429s. */
  readonly authFailureLimit: number;
  readonly authFailureWindowMs: number;
  /** JSON bodies nesting objects or arrays deeper than this are refused with 400. */
  readonly bodyMaxDepth: number;
  /** The built console's directory (`CONSOLE_DIR`); `off` serves no console. */
  readonly consoleDir: string | undefined;
  /** Body limit of agent reports (they list every watched node). */
  readonly agentReportLimitBytes: number;
  /** Optional report fields accepted and advertised to agents (`AGENT_REPORT_FIELDS`; default all, `none` = the baseline). */
  readonly agentReportFields: readonly OptionalReportField[];
  /** Leadership lease length and renewal period. */
  readonly leaderLeaseMs: number;
  readonly leaderRenewMs: number;
  /** First retry delay of a failed webhook delivery; each further retry waits twice as long. */
  readonly webhookRetryBaseMs: number;
  /** Webhooks may target loopback, private and link-local addresses (`WEBHOOK_ALLOW_PRIVATE`). */
  readonly webhookAllowPrivate: boolean;
  /** Webhook delivery attempts are kept this many days. */
  readonly webhookDeliveryRetentionDays: number;
  /** Events older than this many days are deleted by the leader (0: kept for ever). */
  readonly eventRetentionDays: number;
}

export interface DnsUpdateConfig {
  server: string;
  port: number;
  zone: string;
  key: { name: string; algorithm: 'hmac-sha256'; secret: Buffer } | undefined;
  timeoutMs: number;
}

/** Thrown by `loadConfig`; its message is the single line printed at boot. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`invalid configuration: ${variable} ${reason}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function required(env: Env, name: string): string {
  const v = str(env, name);
  if (v === undefined) throw new ConfigError(name, 'is required');
  return v;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const v = str(env, name);
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v)) throw new ConfigError(name, `must be an integer, got ${JSON.stringify(v)}`);
  const n = Number(v);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function optionalPort(env: Env, name: string): number | undefined {
  return str(env, name) === undefined ? undefined : int(env, name, 0, 0, 65535);
}

const FQDN = /^([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)+$/i;

function fqdn(env: Env, name: string): string | undefined {
  const v = str(env, name);
  if (v !== undefined && !FQDN.test(v)) throw new ConfigError(name, 'must be a fully qualified domain name ending with a dot, e.g. redis.example.');
  return v?.toLowerCase();
}

/** `DNS_UPDATE_SERVER=host[:port]`, `DNS_UPDATE_ZONE`, `DNS_UPDATE_KEY=hmac-sha256:<name>:<base64 secret>` (nsupdate's -y form). */
function dnsUpdate(env: Env): DnsUpdateConfig | undefined {
  const server = str(env, 'DNS_UPDATE_SERVER');
  if (server === undefined) return undefined;
  const m = /^(\[[0-9a-f:.]+\]|[^:\s]+)(?::(\d{1,5}))?$/i.exec(server);
  if (!m || (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65535))) throw new ConfigError('DNS_UPDATE_SERVER', 'must be host or host:port');
  const zone = fqdn(env, 'DNS_UPDATE_ZONE');
  if (zone === undefined) throw new ConfigError('DNS_UPDATE_ZONE', 'is required with DNS_UPDATE_SERVER');
  const keySpec = str(env, 'DNS_UPDATE_KEY');
  let key: DnsUpdateConfig['key'];
  if (keySpec !== undefined) {
    const k = /^(hmac-sha256):([^:]+):([A-Za-z0-9+/=]+)$/i.exec(keySpec);
    if (!k) throw new ConfigError('DNS_UPDATE_KEY', 'must be hmac-sha256:<key name>:<base64 secret>');
    const secret = Buffer.from(k[3]!, 'base64');
    if (secret.length < 16) throw new ConfigError('DNS_UPDATE_KEY', 'secret must be at least 16 bytes');
    key = { name: k[2]!.toLowerCase().replace(/\.?$/, '.'), algorithm: 'hmac-sha256', secret };
  }
  return {
    server: m[1]!.replace(/^\[|\]$/g, ''),
    port: m[2] === undefined ? 53 : Number(m[2]),
    zone,
    key,
    timeoutMs: int(env, 'DNS_UPDATE_TIMEOUT_MS', 3000, 100, 60_000),
  };
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const v = str(env, name)?.toLowerCase();
  if (v === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(name, `must be true or false, got ${JSON.stringify(v)}`);
}

function url(env: Env, name: string, protocols: string[], isRequired: boolean): string | undefined {
  const v = isRequired ? required(env, name) : str(env, name);
  if (v === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(v);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must use ${protocols.join(' or ')} (got ${parsed.protocol})`);
  }
  return v;
}

function parseKey(name: string, v: string): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v, 'base64');
  if (key.length !== 32) throw new ConfigError(name, 'must be 32 bytes, as 64 hex characters or base64');
  return key;
}

function secretKey(env: Env): Buffer {
  return parseKey('VIGIL_SECRET_KEY', required(env, 'VIGIL_SECRET_KEY'));
}

/** Keys rotated out: they still open what they sealed (comma-separated, each like VIGIL_SECRET_KEY). */
function oldSecretKeys(env: Env): Buffer[] {
  const v = str(env, 'VIGIL_SECRET_KEYS_OLD');
  if (!v) return [];
  return v
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '')
    .map((k) => parseKey('VIGIL_SECRET_KEYS_OLD', k));
}

function reportFields(env: Env): readonly OptionalReportField[] {
  const v = str(env, 'AGENT_REPORT_FIELDS');
  if (v === undefined) return OPTIONAL_REPORT_FIELDS;
  if (v === 'none') return [];
  const names = v.split(',').map((f) => f.trim());
  const bad = names.find((f) => !isOptionalReportField(f));
  if (bad !== undefined)
    throw new ConfigError('AGENT_REPORT_FIELDS', `must be none or a comma-separated list of ${OPTIONAL_REPORT_FIELDS.join(', ')}, got ${JSON.stringify(bad)}`);
  return Object.freeze([...new Set(names as OptionalReportField[])].sort());
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Reads and validates the controller's environment. Throws `ConfigError` on the first bad variable. */
export function loadConfig(env: Env = process.env): ControllerConfig {
  const logLevel = (str(env, 'LOG_LEVEL') ?? 'info') as ControllerConfig['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  const adminToken = str(env, 'VIGIL_ADMIN_TOKEN');
  if (adminToken !== undefined && adminToken.length < 16) {
    throw new ConfigError('VIGIL_ADMIN_TOKEN', 'must be at least 16 characters');
  }
  const dnsZone = fqdn(env, 'DNS_ZONE');
  if (str(env, 'DNS_PORT') !== undefined && dnsZone === undefined) throw new ConfigError('DNS_ZONE', 'is required with DNS_PORT');
  const httpHost = str(env, 'HTTP_HOST') ?? '0.0.0.0';
  const heartbeat = int(env, 'AGENT_HEARTBEAT_INTERVAL_MS', 1000, 100, 600_000);
  const name = str(env, 'CONTROLLER_NAME') ?? `controller-${randomUUID().slice(0, 8)}`;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) {
    throw new ConfigError('CONTROLLER_NAME', 'must be 1-64 letters, digits, dots, dashes or underscores');
  }
  const leaderLeaseMs = int(env, 'LEADER_LEASE_MS', 5000, 300, 600_000);
  return {
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:'], true)!,
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:'], false),
    httpPort: int(env, 'HTTP_PORT', 8080, 0, 65535),
    httpHost,
    sentinelPort: optionalPort(env, 'SENTINEL_PORT'),
    publishHost: str(env, 'PUBLISH_HOST') ?? httpHost,
    sentinelPassword: str(env, 'SENTINEL_PASSWORD'),
    sentinelMaxClients: int(env, 'SENTINEL_MAX_CLIENTS', 10_000, 1, 1_000_000),
    sentinelAnnounceIp: str(env, 'SENTINEL_ANNOUNCE_IP'),
    dnsPort: optionalPort(env, 'DNS_PORT'),
    dnsZone,
    dnsTtl: int(env, 'DNS_TTL', 5, 0, 86_400),
    dnsUpdate: dnsUpdate(env),
    controllerName: name,
    adminToken,
    secretKey: secretKey(env),
    secretKeysOld: oldSecretKeys(env),
    migrationsRun: bool(env, 'MIGRATIONS_RUN', true),
    logLevel,
    agentHeartbeatIntervalMs: heartbeat,
    agentStaleAfterMs: int(env, 'AGENT_STALE_AFTER_MS', heartbeat * 3, heartbeat, 3_600_000),
    redisAdminTimeoutMs: int(env, 'REDIS_ADMIN_TIMEOUT_MS', 1000, 50, 60_000),
    bodyLimitBytes: int(env, 'HTTP_BODY_LIMIT_BYTES', 1_048_576, 1024, 64 * 1_048_576),
    authFailureLimit: int(env, 'AUTH_FAILURE_LIMIT', 20, 1, 1_000_000),
    authFailureWindowMs: int(env, 'AUTH_FAILURE_WINDOW_MS', 60_000, 1000, 86_400_000),
    bodyMaxDepth: int(env, 'HTTP_BODY_MAX_DEPTH', 32, 4, 1000),
    consoleDir: str(env, 'CONSOLE_DIR'),
    agentReportLimitBytes: int(env, 'AGENT_REPORT_LIMIT_BYTES', 16 * 1_048_576, 1024, 256 * 1_048_576),
    agentReportFields: reportFields(env),
    leaderLeaseMs,
    leaderRenewMs: int(env, 'LEADER_RENEW_MS', Math.min(1000, Math.floor(leaderLeaseMs / 3)), 50, Math.floor(leaderLeaseMs / 3)),
    webhookRetryBaseMs: int(env, 'WEBHOOK_RETRY_BASE_MS', 1000, 10, 3_600_000),
    webhookAllowPrivate: bool(env, 'WEBHOOK_ALLOW_PRIVATE', false),
    webhookDeliveryRetentionDays: int(env, 'WEBHOOK_DELIVERY_RETENTION_DAYS', 30, 1, 3650),
    eventRetentionDays: int(env, 'EVENT_RETENTION_DAYS', 90, 0, 36_500),
  };
}

/** DI token for the validated config. */
export const CONTROLLER_CONFIG = Symbol('CONTROLLER_CONFIG');
