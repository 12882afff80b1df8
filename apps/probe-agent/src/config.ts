import { AGENT_NAME_PATTERN as NAME } from '../../../libs/contracts/src/index.js';

/** The probe agent's configuration, read once from the environment; a bad variable stops it with one line. */
export interface AgentConfig {
  readonly controllerUrls: string[];
  readonly token: string;
  readonly name: string;
  readonly zone: string;
  readonly probeIntervalMs: number;
  readonly requestTimeoutMs: number;
  readonly logLevel: string;
  /** Port of the agent's own health and metrics endpoint; off when unset. */
  readonly httpPort: number | undefined;
  readonly httpHost: string;
  /**
   * Where this agent reaches a node when not at its registered address (NAT, port forwarding, a
   * tunnel): `host:port` → `host:port`.
   */
  readonly addressMap: ReadonlyMap<string, { host: string; port: number }>;
}

export class AgentConfigError extends Error {
  constructor(variable: string, reason: string) {
    super(`invalid configuration: ${variable} ${reason}`);
    this.name = 'AgentConfigError';
  }
}

function positiveInt(env: Record<string, string | undefined>, name: string, fallback: number, min: number, max: number): number {
  const v = env[name]?.trim();
  if (!v) return fallback;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new AgentConfigError(name, `must be an integer between ${min} and ${max}`);
  return Number(v);
}

function parseAddress(text: string): { host: string; port: number } | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(text.trim());
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) return undefined;
  return { host: m[1]!.replace(/^\[|\]$/g, '').toLowerCase(), port: Number(m[2]) };
}

function addressMap(raw: string | undefined): Map<string, { host: string; port: number }> {
  const map = new Map<string, { host: string; port: number }>();
  for (const entry of (raw ?? '').split(',').filter((e) => e.trim() !== '')) {
    const [from, to, extra] = entry.split('=');
    const a = from !== undefined ? parseAddress(from) : undefined;
    const b = to !== undefined ? parseAddress(to) : undefined;
    if (!a || !b || extra !== undefined)
      throw new AgentConfigError('VIGIL_AGENT_ADDRESS_MAP', `has an invalid entry ${JSON.stringify(entry)} (expected host:port=host:port)`);
    map.set(`${a.host}:${a.port}`, b);
  }
  return map;
}

export function loadAgentConfig(env: Record<string, string | undefined> = process.env): AgentConfig {
  const rawUrls = env['VIGIL_CONTROLLER_URL']?.trim();
  if (!rawUrls) throw new AgentConfigError('VIGIL_CONTROLLER_URL', 'is required (one or more URLs, comma-separated)');
  const controllerUrls = rawUrls
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean)
    .map((u) => {
      let parsed: URL;
      try {
        parsed = new URL(u);
      } catch {
        throw new AgentConfigError('VIGIL_CONTROLLER_URL', `has an invalid URL: ${u}`);
      }
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new AgentConfigError('VIGIL_CONTROLLER_URL', `must use http or https: ${u}`);
      return parsed.origin + parsed.pathname.replace(/\/+$/, '');
    });
  const token = env['VIGIL_AGENT_TOKEN']?.trim();
  if (!token) throw new AgentConfigError('VIGIL_AGENT_TOKEN', 'is required');
  const name = env['VIGIL_AGENT_NAME']?.trim();
  if (!name || !NAME.test(name)) throw new AgentConfigError('VIGIL_AGENT_NAME', 'is required: 1-64 letters, digits, dots, dashes or underscores');
  const zone = env['VIGIL_AGENT_ZONE']?.trim() || 'default';
  if (!NAME.test(zone)) throw new AgentConfigError('VIGIL_AGENT_ZONE', 'must be 1-64 letters, digits, dots, dashes or underscores');
  return {
    controllerUrls,
    token,
    name,
    zone,
    probeIntervalMs: positiveInt(env, 'PROBE_INTERVAL_MS', 500, 50, 60_000),
    requestTimeoutMs: positiveInt(env, 'CONTROLLER_TIMEOUT_MS', 2000, 100, 60_000),
    logLevel: env['LOG_LEVEL']?.trim() || 'info',
    httpPort: env['AGENT_HTTP_PORT']?.trim() ? positiveInt(env, 'AGENT_HTTP_PORT', 0, 0, 65535) : undefined,
    httpHost: env['AGENT_HTTP_HOST']?.trim() || '0.0.0.0',
    addressMap: addressMap(env['VIGIL_AGENT_ADDRESS_MAP']),
  };
}

export const AGENT_CONFIG = Symbol('AGENT_CONFIG');
