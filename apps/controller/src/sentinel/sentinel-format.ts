/**
 * Redis Sentinel's reply and message formats, as pure functions of what Vigil knows. Field names,
 * their order and the flag words follow Redis' `src/sentinel.c` (addReplySentinelRedisInstance,
 * sentinelEvent), so clients that parse Sentinel's answers parse these unchanged. Every value is a
 * string, as Sentinel sends them (bulk strings, also for numbers).
 */

export type InstanceState = 'up' | 'sdown' | 'odown' | 'config-fault' | 'unknown';

/** What the controller knows of one Redis node, gathered from detection and the agents' INFO. */
export interface InstanceFacts {
  host: string;
  port: number;
  runId: string | null;
  state: InstanceState;
  /**
   * Most voting agents' latest probe failed (refused, reset, timed out): Sentinel's \`disconnected\` flag,
   * shown while its own link to the instance is down, which a crash causes at once, long before \`s_down\`.
   * Clients skip such an instance (node-redis 5 would otherwise open a connection to a dead master and
   * wait on it).
   */
  disconnected: boolean;
  /** When the current state began (ms, controller clock). */
  stateSince: number | null;
  /** The most recent valid reply any agent had (ms). */
  lastOkAt: number | null;
  /** When the newest INFO was read (ms). */
  infoReadAt: number | null;
  /** Role as the node itself last reported it. */
  roleReported: 'master' | 'replica' | null;
  offset: number | null;
  masterHost: string | null;
  masterPort: number | null;
  linkUp: boolean | null;
  linkDownSinceS: number | null;
  priority: number;
}

export interface MasterFacts extends InstanceFacts {
  name: string;
  epoch: number;
  quorum: number;
  downAfterMs: number;
  failoverTimeoutMs: number;
  numSlaves: number;
  numOtherSentinels: number;
  failoverInProgress: boolean;
}

export interface PeerFacts {
  name: string;
  host: string;
  port: number;
  runId: string;
  seenAt: number;
}

type Fields = [string, string][];

function since(now: number, at: number | null): string {
  return at === null ? '0' : String(Math.max(0, now - at));
}

/** Sentinel's flag words in its order (`s_down,o_down,master,disconnected,…`, as Redis 7.0 answers them). */
function flags(base: 'master' | 'slave', f: InstanceFacts, failoverInProgress = false): string {
  const out: string[] = [];
  if (f.state === 'sdown' || f.state === 'odown') out.push('s_down');
  if (f.state === 'odown') out.push('o_down');
  out.push(base);
  if (f.disconnected) out.push('disconnected');
  if (failoverInProgress) out.push('failover_in_progress');
  return out.join(',');
}

function common(name: string, f: InstanceFacts, flagWords: string, now: number): Fields {
  const out: Fields = [
    ['name', name],
    ['ip', f.host],
    ['port', String(f.port)],
    ['runid', f.runId ?? ''],
    ['flags', flagWords],
    ['link-pending-commands', '0'],
    ['link-refcount', '1'],
    ['last-ping-sent', '0'],
    ['last-ok-ping-reply', since(now, f.lastOkAt)],
    ['last-ping-reply', since(now, f.lastOkAt)],
  ];
  if ((f.state === 'sdown' || f.state === 'odown') && f.stateSince !== null) out.push(['s-down-time', since(now, f.stateSince)]);
  if (f.state === 'odown' && f.stateSince !== null) out.push(['o-down-time', since(now, f.stateSince)]);
  return out;
}

/** `SENTINEL master <name>` / one element of `SENTINEL masters`. */
export function masterFields(m: MasterFacts, now: number): Fields {
  return [
    ...common(m.name, m, flags('master', m, m.failoverInProgress), now),
    ['down-after-milliseconds', String(m.downAfterMs)],
    ['info-refresh', since(now, m.infoReadAt)],
    ['role-reported', m.roleReported === 'replica' ? 'slave' : 'master'],
    ['role-reported-time', since(now, m.stateSince)],
    ['config-epoch', String(m.epoch)],
    ['num-slaves', String(m.numSlaves)],
    ['num-other-sentinels', String(m.numOtherSentinels)],
    ['quorum', String(m.quorum)],
    ['failover-timeout', String(m.failoverTimeoutMs)],
    ['parallel-syncs', '1'],
  ];
}

/** One element of `SENTINEL replicas <name>`. */
export function replicaFields(r: InstanceFacts, master: { host: string; port: number }, downAfterMs: number, now: number): Fields {
  const linkUp = r.linkUp === true && r.state !== 'sdown' && r.state !== 'odown';
  return [
    ...common(`${r.host}:${r.port}`, r, flags('slave', r), now),
    ['down-after-milliseconds', String(downAfterMs)],
    ['info-refresh', since(now, r.infoReadAt)],
    ['role-reported', r.roleReported === 'master' ? 'master' : 'slave'],
    ['role-reported-time', since(now, r.stateSince)],
    ['master-link-down-time', linkUp ? '0' : String((r.linkDownSinceS ?? 0) * 1000)],
    ['master-link-status', linkUp ? 'ok' : 'err'],
    ['master-host', r.masterHost ?? master.host],
    ['master-port', String(r.masterPort ?? master.port)],
    ['slave-priority', String(r.priority)],
    ['slave-repl-offset', String(r.offset ?? 0)],
    ['replica-announced', '1'],
  ];
}

/** One element of `SENTINEL sentinels <name>`: another controller replica. */
export function sentinelFields(p: PeerFacts, downAfterMs: number, now: number): Fields {
  return [
    ['name', p.runId],
    ['ip', p.host],
    ['port', String(p.port)],
    ['runid', p.runId],
    ['flags', 'sentinel'],
    ['link-pending-commands', '0'],
    ['link-refcount', '1'],
    ['last-ping-sent', '0'],
    ['last-ok-ping-reply', since(now, p.seenAt)],
    ['last-ping-reply', since(now, p.seenAt)],
    ['down-after-milliseconds', String(downAfterMs)],
    ['last-hello-message', since(now, p.seenAt)],
    ['voted-leader', '?'],
    ['voted-leader-epoch', '0'],
  ];
}

/** Sentinel's "instance details" in event messages: `master <name> <ip> <port>` or `slave <ip:port> <ip> <port> @ <name> <mip> <mport>`. */
export function masterDetails(name: string, m: { host: string; port: number }): string {
  return `master ${name} ${m.host} ${m.port}`;
}

export function slaveDetails(name: string, r: { host: string; port: number }, m: { host: string; port: number }): string {
  return `slave ${r.host}:${r.port} ${r.host} ${r.port} @ ${name} ${m.host} ${m.port}`;
}

/** `host:port` → parts (IPv6 hosts keep their colons). */
export function splitAddress(address: string): { host: string; port: number } | null {
  const i = address.lastIndexOf(':');
  if (i <= 0) return null;
  const port = Number(address.slice(i + 1));
  if (!Number.isInteger(port)) return null;
  return { host: address.slice(0, i), port };
}

export interface InfoInput {
  version: string;
  runId: string;
  port: number;
  uptimeS: number;
  connectedClients: number;
  connectionsReceived: number;
  rejectedConnections?: number;
  commandsProcessed: number;
  masters: { name: string; status: 'ok' | 'odown'; host: string; port: number; slaves: number; sentinels: number }[];
}

const SECTIONS = ['server', 'clients', 'stats', 'sentinel'] as const;

/** `INFO [section …]` text, with the sections a Sentinel has. Unknown sections give an empty text, as Redis does. */
export function infoText(input: InfoInput, requested: string[]): string {
  const want = new Set(requested.map((s) => s.toLowerCase()));
  const all = want.size === 0 || want.has('all') || want.has('default') || want.has('everything');
  const parts: string[] = [];
  for (const section of SECTIONS) {
    if (!all && !want.has(section)) continue;
    const lines: string[] = [];
    switch (section) {
      case 'server':
        lines.push(
          '# Server',
          `redis_version:${input.version}`,
          'redis_mode:sentinel',
          `os:${process.platform}`,
          `process_id:${process.pid}`,
          `run_id:${input.runId}`,
          `tcp_port:${input.port}`,
          `uptime_in_seconds:${input.uptimeS}`,
          `uptime_in_days:${Math.floor(input.uptimeS / 86_400)}`,
          'executable:vigil-controller',
        );
        break;
      case 'clients':
        lines.push('# Clients', `connected_clients:${input.connectedClients}`);
        break;
      case 'stats':
        lines.push(
          '# Stats',
          `total_connections_received:${input.connectionsReceived}`,
          `total_commands_processed:${input.commandsProcessed}`,
          `rejected_connections:${input.rejectedConnections ?? 0}`,
        );
        break;
      case 'sentinel':
        lines.push(
          '# Sentinel',
          `sentinel_masters:${input.masters.length}`,
          'sentinel_tilt:0',
          'sentinel_tilt_since_seconds:-1',
          'sentinel_running_scripts:0',
          'sentinel_scripts_queue_length:0',
          'sentinel_simulate_failure_flags:0',
          ...input.masters.map(
            (m, i) => `master${i}:name=${m.name},status=${m.status},address=${m.host}:${m.port},slaves=${m.slaves},sentinels=${m.sentinels}`,
          ),
        );
        break;
    }
    parts.push(lines.join('\r\n') + '\r\n');
  }
  return parts.join('\r\n');
}
