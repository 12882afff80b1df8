import { Redis, type RedisOptions } from 'ioredis';

/** How to reach one Redis node with administrative intent. */
export interface RedisNodeAddress {
  host: string;
  port: number;
  username?: string;
  password?: string;
  tls?: boolean;
}

/**
 * ioredis options for short administrative conversations: no retries, no offline queue, tight
 * timeouts, so a dead node answers with an error quickly instead of a hang.
 */
export function adminConnectionOptions(node: RedisNodeAddress, timeoutMs: number): RedisOptions {
  return {
    host: node.host,
    port: node.port,
    username: node.username,
    password: node.password,
    tls: node.tls ? {} : undefined,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    // No ready check, no CLIENT SETNAME / SETINFO on connect: each would hold connect() on a hung node
    // (SIGSTOP) before the first command of ours even starts. Only our commands run, each bounded.
    enableReadyCheck: false,
    disableClientInfo: true,
    lazyConnect: true,
    retryStrategy: () => null,
  };
}

/**
 * Opens a short-lived connection, runs `fn`, and always closes the connection. Connection errors are
 * swallowed by a listener so they surface only through the returned promise.
 */
export async function withAdminConnection<T>(node: RedisNodeAddress, timeoutMs: number, fn: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(adminConnectionOptions(node, timeoutMs));
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}
