import { connect, type Socket } from 'node:net';

const RECONNECT_MS = 1000;
/** After an established link closes it is re-opened at once; a re-open not connected within this is given up. */
const RECHECK_MS = 200;
/** A node this replica has not reached is tried again at most this often. */
const MAX_RETRY_MS = 10_000;

interface Link {
  host: string;
  port: number;
  socket: Socket | undefined;
  up: boolean;
  /** When an established connection last closed (ms), if it has not come back since. */
  closedAt: number | undefined;
  /** An established connection closed at this time and is being re-opened at once. */
  recheckSince: number | undefined;
  timer: NodeJS.Timeout | undefined;
  retryMs: number;
}

/**
 * One idle TCP connection from this replica to each cluster's recorded master, as Sentinel keeps a link
 * to every instance: when a master crashes the connection closes at that instant, long before an agent's
 * next report. Sentinel shows that as the `disconnected` flag, and clients act on it at once (node-redis 5
 * and 6 refuse such a master; node-redis 5, given a dead master, would wait on it forever).
 *
 * Only a connection that was established and then closed counts: a replica that cannot reach the node at
 * all learns nothing from its link (the agents' view decides then), and any agent's valid reply after the
 * close clears it (see `closedSince`). Nothing is sent on the connection. A closed link is re-opened at
 * once, so a master that only closed an idle client (Redis' `timeout`, `CLIENT KILL`) is flagged for one
 * connection's time, not until the next attempt; a re-open that is refused or not connected within
 * `RECHECK_MS` leaves the flag and falls back to the usual retries.
 */
export class MasterLinks {
  private readonly links = new Map<string, Link>();
  private closed = false;

  /** Keeps exactly one link per cluster, to its master now (`null` for a cluster without one). */
  follow(masters: Map<string, { host: string; port: number } | null>): void {
    if (this.closed) return;
    for (const cluster of [...this.links.keys()]) if (!masters.has(cluster)) this.drop(cluster);
    for (const [cluster, m] of masters) this.followOne(cluster, m);
  }

  /** Keeps one cluster's link to its master now (`null`: no link, the cluster has no master or is gone). */
  followOne(cluster: string, m: { host: string; port: number } | null): void {
    if (this.closed) return;
    const current = this.links.get(cluster);
    if (current && m && current.host === m.host && current.port === m.port) return;
    if (current) this.drop(cluster);
    if (!m) return;
    const link: Link = {
      host: m.host,
      port: m.port,
      socket: undefined,
      up: false,
      closedAt: undefined,
      recheckSince: undefined,
      timer: undefined,
      retryMs: RECONNECT_MS,
    };
    this.links.set(cluster, link);
    this.open(link);
  }

  /** When the link to this cluster's master closed, if it was established and is down now. */
  closedSince(cluster: string, master: { host: string; port: number }): number | undefined {
    const link = this.links.get(cluster);
    if (!link || link.host !== master.host || link.port !== master.port || link.up) return undefined;
    return link.closedAt;
  }

  close(): void {
    this.closed = true;
    for (const cluster of [...this.links.keys()]) this.drop(cluster);
  }

  private open(link: Link): void {
    const socket = connect({ host: link.host, port: link.port });
    link.socket = socket;
    socket.setKeepAlive(true, 10_000);
    let recheck: NodeJS.Timeout | undefined;
    if (link.recheckSince !== undefined) recheck = setTimeout(() => socket.destroy(), RECHECK_MS).unref();
    socket.on('connect', () => {
      clearTimeout(recheck);
      link.up = true;
      link.closedAt = undefined;
      link.recheckSince = undefined;
      link.retryMs = RECONNECT_MS;
    });
    socket.on('data', () => undefined);
    // The end of the stream is news at once: 'close' comes a loop phase later, after a client's request
    // read in the same turn (it asks again the moment the crash closes its own connection) was answered.
    const lost = () => {
      clearTimeout(recheck);
      if (link.socket !== socket) return;
      socket.destroy();
      const wasUp = link.up;
      link.up = false;
      link.socket = undefined;
      if (this.closed) return;
      if (wasUp) {
        // Flagged at once (a crash must show before clients re-read the master, within milliseconds),
        // and asked again now: a master that only closed an idle client answers and clears the flag.
        link.closedAt = Date.now();
        link.recheckSince = link.closedAt;
        this.open(link);
        return;
      }
      link.recheckSince = undefined;
      link.timer = setTimeout(() => this.open(link), link.retryMs).unref();
      if (link.closedAt === undefined) link.retryMs = Math.min(link.retryMs * 2, MAX_RETRY_MS);
    };
    socket.on('end', lost);
    socket.on('error', lost);
    socket.on('close', lost);
  }

  private drop(cluster: string): void {
    const link = this.links.get(cluster);
    if (!link) return;
    this.links.delete(cluster);
    clearTimeout(link.timer);
    const s = link.socket;
    link.socket = undefined;
    s?.destroy();
  }
}
