import { type RedisNodeAddress, withAdminConnection } from './connection.js';

/** What `ROLE` says: `master`, or `slave` with the master it follows. */
export type RoleReply = { role: 'master'; offset: number } | { role: 'replica'; masterHost: string; masterPort: number; state: string } | { role: 'sentinel' };

export function parseRoleReply(reply: unknown): RoleReply {
  if (!Array.isArray(reply) || typeof reply[0] !== 'string') throw new Error(`unexpected ROLE reply ${JSON.stringify(reply)}`);
  if (reply[0] === 'master') return { role: 'master', offset: Number(reply[1] ?? 0) };
  if (reply[0] === 'slave' || reply[0] === 'replica') {
    return { role: 'replica', masterHost: String(reply[1]), masterPort: Number(reply[2]), state: String(reply[3] ?? '') };
  }
  if (reply[0] === 'sentinel') return { role: 'sentinel' };
  throw new Error(`unexpected ROLE reply ${JSON.stringify(reply)}`);
}

/** `REPLICAOF NO ONE`, then `ROLE` to verify; resolves with the verified role (throws if it is not master). */
export function promoteToMaster(node: RedisNodeAddress, timeoutMs: number): Promise<RoleReply> {
  return withAdminConnection(node, timeoutMs, async (redis) => {
    await redis.call('REPLICAOF', 'NO', 'ONE');
    const role = parseRoleReply(await redis.call('ROLE'));
    if (role.role !== 'master') throw new Error(`still ${role.role} after REPLICAOF NO ONE`);
    return role;
  });
}

/** `REPLICAOF host port`; resolves with `ROLE` read afterwards. */
export function followMaster(node: RedisNodeAddress, master: { host: string; port: number }, timeoutMs: number): Promise<RoleReply> {
  return withAdminConnection(node, timeoutMs, async (redis) => {
    await redis.call('REPLICAOF', master.host, String(master.port));
    return parseRoleReply(await redis.call('ROLE'));
  });
}

export function readRole(node: RedisNodeAddress, timeoutMs: number): Promise<RoleReply> {
  return withAdminConnection(node, timeoutMs, async (redis) => parseRoleReply(await redis.call('ROLE')));
}

/**
 * Disconnects the node's normal and pub/sub clients (not this one), so pooled clients reconnect and
 * re-resolve the master. Returns how many were killed.
 */
export function disconnectClients(node: RedisNodeAddress, timeoutMs: number): Promise<number> {
  return withAdminConnection(node, timeoutMs, async (redis) => {
    const normal = Number(await redis.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes'));
    const pubsub = Number(await redis.call('CLIENT', 'KILL', 'TYPE', 'pubsub', 'SKIPME', 'yes'));
    return normal + pubsub;
  });
}

/** Applies min-replicas-to-write / min-replicas-max-lag (the write-safety policy) with CONFIG SET. */
export function applyWriteSafety(node: RedisNodeAddress, minReplicasToWrite: number, maxLagS: number, timeoutMs: number): Promise<void> {
  return withAdminConnection(node, timeoutMs, async (redis) => {
    await redis.call('CONFIG', 'SET', 'min-replicas-to-write', String(minReplicasToWrite), 'min-replicas-max-lag', String(maxLagS));
  });
}

/**
 * A lossless hand-over with Redis' own `FAILOVER TO host port TIMEOUT ms` (Redis 6.2+): the master
 * pauses writes, waits until `target` has every byte it acknowledged, then `target` becomes master
 * and the master its replica. If `target` cannot catch up within `timeoutMs`, Redis aborts and the
 * master stays master. Resolves with the master's final role (`replica` of `target` on success).
 */
export async function handOver(
  master: RedisNodeAddress,
  target: { host: string; port: number },
  timeoutMs: number,
  commandTimeoutMs: number,
): Promise<RoleReply> {
  await withAdminConnection(master, commandTimeoutMs, (redis) => redis.call('FAILOVER', 'TO', target.host, String(target.port), 'TIMEOUT', String(timeoutMs)));
  const deadline = Date.now() + timeoutMs + 5000;
  for (;;) {
    // A fresh connection each time: the hand-over may drop the old master's clients.
    const state = await withAdminConnection(
      master,
      commandTimeoutMs,
      async (redis) => /master_failover_state:(\S+)/.exec(String(await redis.call('INFO', 'replication')))?.[1],
    ).catch(() => 'unknown');
    if (state === 'no-failover') break;
    if (Date.now() > deadline) throw new Error(`FAILOVER still ${state} after ${timeoutMs + 5000} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return readRole(master, commandTimeoutMs);
}

/**
 * `CONFIG REWRITE`: writes the running configuration (a promotion's `REPLICAOF NO ONE` included) to the
 * node's config file, so the role survives a restart. Throws where the node has no config file or
 * forbids the command.
 */
export function persistConfig(node: RedisNodeAddress, timeoutMs: number): Promise<void> {
  return withAdminConnection(node, timeoutMs, async (redis) => {
    await redis.call('CONFIG', 'REWRITE');
  });
}
