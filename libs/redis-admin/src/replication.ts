import { withAdminConnection, type RedisNodeAddress } from './connection.js';
import { parseReplicationInfo, type ReplicationInfo } from './info.js';

/** What one node says about itself, or why it could not say. */
export type NodeReplicationProbe = { ok: true; info: ReplicationInfo } | { ok: false; error: string; authFailure: boolean };

const AUTH_ERRORS = /NOAUTH|WRONGPASS|invalid password|invalid username-password/i;

/** Reads `INFO server`, `INFO persistence` and `INFO replication` from one node within `timeoutMs`; never throws. */
export async function probeReplication(node: RedisNodeAddress, timeoutMs: number): Promise<NodeReplicationProbe> {
  try {
    const text = await withAdminConnection(node, timeoutMs, async (redis) => {
      const [server, persistence, replication] = await Promise.all([redis.info('server'), redis.info('persistence'), redis.info('replication')]);
      return `${server}\n${persistence}\n${replication}`;
    });
    return { ok: true, info: parseReplicationInfo(text) };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, error: message, authFailure: AUTH_ERRORS.test(message) };
  }
}
