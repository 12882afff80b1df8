/**
 * Parses the text of Redis `INFO` into sections of key/value strings. Section headers (`# Replication`)
 * become lower-case section names; lines before any header land in `default`.
 */
export function parseInfo(text: string): Record<string, Record<string, string>> {
  const sections: Record<string, Record<string, string>> = {};
  let current = 'default';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      current = line.slice(1).trim().toLowerCase();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    (sections[current] ??= {})[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return sections;
}

/** One connected replica as the master lists it (`slaveN:ip=…,port=…,state=…,offset=…,lag=…`). */
export interface ConnectedReplica {
  host: string;
  port: number;
  state: string;
  offset: number;
  lagS: number;
}

/** The replication facts Vigil reads from `INFO replication`. */
export interface ReplicationInfo {
  role: 'master' | 'replica';
  runId?: string;
  masterReplOffset: number;
  /** Set for replicas. */
  masterHost?: string;
  masterPort?: number;
  masterLinkStatus?: 'up' | 'down';
  /** -1 when the link never came up since the replica started following this master. */
  masterLinkDownSinceSeconds?: number;
  /** Whole seconds since the replica last received anything from its master (-1: never). */
  masterLastIoSeconds?: number;
  replicaReplOffset?: number;
  replicaPriority?: number;
  /** A full resynchronisation is loading: the replica has no complete data set (e.g. it restarted empty). */
  syncInProgress?: boolean;
  /** The server is loading its data set (`loading:1` in INFO persistence), when that section was read. */
  loading?: boolean;
  /** Set for masters. */
  connectedReplicas: ConnectedReplica[];
}

function toInt(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Extracts replication state from `INFO` (or `INFO replication`) output. `runId` is read from the
 * server section when present. Throws when the text has no `role` field: that is not INFO output.
 */
export function parseReplicationInfo(text: string): ReplicationInfo {
  const sections = parseInfo(text);
  const repl = sections['replication'] ?? sections['default'] ?? {};
  const role = repl['role'];
  if (role !== 'master' && role !== 'slave' && role !== 'replica') {
    throw new Error(`INFO replication has no usable role (got ${JSON.stringify(role)})`);
  }
  const connectedReplicas: ConnectedReplica[] = [];
  for (const [key, value] of Object.entries(repl)) {
    if (!/^slave\d+$/.test(key)) continue;
    const fields = Object.fromEntries(value.split(',').map((kv) => kv.split('=') as [string, string]));
    const port = toInt(fields['port']);
    if (fields['ip'] === undefined || port === undefined) continue;
    connectedReplicas.push({
      host: fields['ip'],
      port,
      state: fields['state'] ?? 'unknown',
      offset: toInt(fields['offset']) ?? 0,
      lagS: toInt(fields['lag']) ?? 0,
    });
  }
  const info: ReplicationInfo = {
    role: role === 'master' ? 'master' : 'replica',
    runId: sections['server']?.['run_id'],
    masterReplOffset: toInt(repl['master_repl_offset']) ?? 0,
    connectedReplicas,
  };
  const loading = sections['persistence']?.['loading'];
  if (loading !== undefined) info.loading = loading === '1';
  if (info.role === 'replica') {
    info.masterHost = repl['master_host'];
    info.masterPort = toInt(repl['master_port']);
    info.masterLinkStatus = repl['master_link_status'] === 'up' ? 'up' : 'down';
    info.masterLinkDownSinceSeconds = toInt(repl['master_link_down_since_seconds']);
    info.masterLastIoSeconds = toInt(repl['master_last_io_seconds_ago']);
    info.replicaReplOffset = toInt(repl['slave_repl_offset']);
    info.replicaPriority = toInt(repl['slave_priority'] ?? repl['replica_priority']);
    info.syncInProgress = repl['master_sync_in_progress'] === '1';
  }
  return info;
}
