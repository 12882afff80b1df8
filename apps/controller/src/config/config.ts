import { randomUUID } from 'node:crypto';

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
  readonly dnsPort: number | undefined;
  readonly dnsZone: string | undefined;
  readonly controllerName: string;
  readonly adminToken: string | undefined;
  /** 32-byte key for AES-256-GCM encryption of Redis credentials at rest. */
  readonly secretKey: Buffer;
  readonly migrationsRun: boolean;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly agentHeartbeatIntervalMs: number;
  readonly agentStaleAfterMs: number;
  /** Timeout for the controller's own short conversations with Redis nodes. */
  readonly redisAdminTimeoutMs: number;
  readonly bodyLimitBytes: number;
  /** Body limit of agent reports (they list every watched node). */
  readonly agentReportLimitBytes: number;
  /** Leadership lease length and renewal period. */
  readonly leaderLeaseMs: number;
  readonly leaderRenewMs: number;
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

function secretKey(env: Env): Buffer {
  const v = required(env, 'VIGIL_SECRET_KEY');
  const key = /^[0-9a-fA-F]{64}$/.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v, 'base64');
  if (key.length !== 32) {
    throw new ConfigError('VIGIL_SECRET_KEY', 'must be 32 bytes, as 64 hex characters or base64');
  }
  return key;
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
  const dnsZone = str(env, 'DNS_ZONE');
  if (dnsZone !== undefined && !/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+$/i.test(dnsZone)) {
    throw new ConfigError('DNS_ZONE', 'must be a fully qualified domain name ending with a dot, e.g. redis.example.');
  }
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
    httpHost: str(env, 'HTTP_HOST') ?? '0.0.0.0',
    sentinelPort: optionalPort(env, 'SENTINEL_PORT'),
    dnsPort: optionalPort(env, 'DNS_PORT'),
    dnsZone,
    controllerName: name,
    adminToken,
    secretKey: secretKey(env),
    migrationsRun: bool(env, 'MIGRATIONS_RUN', true),
    logLevel,
    agentHeartbeatIntervalMs: heartbeat,
    agentStaleAfterMs: int(env, 'AGENT_STALE_AFTER_MS', heartbeat * 3, heartbeat, 3_600_000),
    redisAdminTimeoutMs: int(env, 'REDIS_ADMIN_TIMEOUT_MS', 1000, 50, 60_000),
    bodyLimitBytes: int(env, 'HTTP_BODY_LIMIT_BYTES', 1_048_576, 1024, 64 * 1_048_576),
    agentReportLimitBytes: int(env, 'AGENT_REPORT_LIMIT_BYTES', 16 * 1_048_576, 1024, 256 * 1_048_576),
    leaderLeaseMs,
    leaderRenewMs: int(env, 'LEADER_RENEW_MS', Math.min(1000, Math.floor(leaderLeaseMs / 3)), 50, Math.floor(leaderLeaseMs / 3)),
  };
}

/** DI token for the validated config. */
export const CONTROLLER_CONFIG = Symbol('CONTROLLER_CONFIG');
