import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { announceHost } from '../common/announce.js';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/config.js';
import { LeadershipService } from '../leadership/leadership.service.js';
import type { PeerFacts } from './sentinel-format.js';

const ANNOUNCE_EVERY_MS = 2000;
/** A replica not seen for this long is no longer listed. */
const PEER_TTL_S = 10;

/**
 * The other controller replicas' Sentinel-compatible endpoints, for `SENTINEL sentinels` (Sentinel
 * clients learn further endpoints from it). Each replica upserts its row in `controller_peers` every
 * 2 s and reads the others'; the answer comes from memory.
 */
@Injectable()
export class SentinelPeers implements OnApplicationShutdown {
  private readonly logger = new Logger(SentinelPeers.name);
  private peers: PeerFacts[] = [];
  private timer: NodeJS.Timeout | undefined;
  private port = 0;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly leadership: LeadershipService,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
  ) {}

  /** Starts announcing this replica's endpoint (bound to `port`). */
  async start(port: number): Promise<void> {
    this.port = port;
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), ANNOUNCE_EVERY_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    if (this.port === 0) return;
    await this.db.query(`DELETE FROM controller_peers WHERE identity = $1`, [this.leadership.identity]).catch(() => undefined);
  }

  /** The other live replicas (never this one). */
  list(): PeerFacts[] {
    return this.peers;
  }

  private async refresh(): Promise<void> {
    try {
      await this.db.query(
        `INSERT INTO controller_peers (identity, name, sentinel_host, sentinel_port, seen_at) VALUES ($1, $2, $3, $4, now())
         ON CONFLICT (identity) DO UPDATE SET sentinel_host = EXCLUDED.sentinel_host, sentinel_port = EXCLUDED.sentinel_port, seen_at = now()`,
        [this.leadership.identity, this.config.controllerName, announceHost(this.config), this.port],
      );
      const rows = await this.db.query<{ identity: string; name: string; sentinel_host: string; sentinel_port: number; age_ms: number }[]>(
        `SELECT identity, name, sentinel_host, sentinel_port, (extract(epoch FROM now() - seen_at) * 1000)::int AS age_ms
           FROM controller_peers
          WHERE identity <> $1 AND sentinel_port IS NOT NULL AND seen_at > now() - make_interval(secs => $2)
          ORDER BY name, identity`,
        [this.leadership.identity, PEER_TTL_S],
      );
      const now = Date.now();
      this.peers = rows.map((r) => ({ name: r.name, host: r.sentinel_host, port: r.sentinel_port, runId: runIdOf(r.identity), seenAt: now - r.age_ms }));
      await this.db.query(`DELETE FROM controller_peers WHERE seen_at < now() - interval '1 hour'`);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'could not announce the Sentinel endpoint');
    }
  }
}

/** A 40-hex-character run id derived from a replica identity, as Sentinel's run ids look (every replica derives the same). */
export function runIdOf(identity: string): string {
  return createHash('sha1').update(identity).digest('hex');
}
