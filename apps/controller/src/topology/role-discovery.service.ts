import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { probeReplication } from '../../../../libs/redis-admin/src/index.js';
import { AuditService, type EventInput } from '../audit/audit.service.js';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/config.js';
import { ClusterEntity } from './cluster.entity.js';
import { NodeEntity } from './node.entity.js';
import type { NodeRole } from './node.entity.js';
import { decideRoles, type RoleDecision, type RoleDecisionInput } from './role-decision.js';
import { SecretBox } from './secret-box.js';

/**
 * Finds a cluster's master by asking its nodes (`INFO replication`), then records the roles.
 * Used when nodes join; continuous tracking is the probe agents' job.
 */
@Injectable()
export class RoleDiscoveryService {
  private readonly secrets: SecretBox;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly audit: AuditService,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
  ) {
    this.secrets = new SecretBox(config.secretKey, config.secretKeysOld);
  }

  /** Returns true when every node answered (nothing left to retry), false otherwise. */
  async discover(clusterId: string): Promise<boolean> {
    const cluster = await this.db.getRepository(ClusterEntity).findOneBy({ id: clusterId });
    if (!cluster) return true; // deleted meanwhile: nothing to discover
    const nodes = await this.db.getRepository(NodeEntity).findBy({ clusterId });
    const password = cluster.redisPasswordSealed ? this.secrets.open(cluster.redisPasswordSealed) : undefined;
    const round = await this.probe(
      nodes.map((n) => ({ id: n.id, host: n.host, port: n.port, recorded: n.role })),
      { username: cluster.redisUsername ?? undefined, password, tls: cluster.redisTls },
    );
    const { probed, decision } = round;
    const now = new Date();
    const written = await this.db.transaction(async (em) => {
      // Fenced like a failover's writes: only under the epoch read before the nodes were asked, and never
      // while a failover runs (it owns the roles then). The row lock orders this against a failover's epoch raise.
      const [current] = await em.query<{ epoch: string; running: boolean }[]>(
        `SELECT epoch::text AS epoch, EXISTS (SELECT 1 FROM failovers WHERE cluster_id = $1 AND outcome = 'running') AS running
           FROM clusters WHERE id = $1 FOR UPDATE`,
        [clusterId],
      );
      if (!current || Number(current.epoch) !== cluster.epoch || current.running) return false;
      for (const p of probed) {
        const role = decision.roles.get(p.id)!;
        // Written under the epoch read at the start: if a failover raised it meanwhile, the database refuses (and a retry reads again).
        if (role !== p.recorded || p.probe.ok) {
          await em.update(NodeEntity, { id: p.id }, { role, roleEpoch: cluster.epoch, ...(p.probe.ok ? { roleCheckedAt: now } : {}) });
        }
      }
      const event = this.rolesEvent(cluster, round);
      if (event) await this.audit.record(event, em);
      return true;
    });
    // A failover took over meanwhile: its record is the truth now, there is nothing left to discover.
    if (!written) return true;
    return probed.every((p) => p.probe.ok);
  }

  /** Asks every node for its replication role, at once, and decides the roles from the answers; writes nothing. */
  async probe(nodes: { id: string; host: string; port: number; recorded: NodeRole }[], redis: RedisCredentials): Promise<DiscoveryRound> {
    const probed = await Promise.all(
      nodes.map(async (n) => ({
        ...n,
        probe: await probeReplication({ host: n.host, port: n.port, ...redis }, this.config.redisAdminTimeoutMs),
      })),
    );
    return { probed, decision: decideRoles(probed) };
  }

  /** The `cluster.roles_discovered` event for a round that changed a role or warns (null when it did neither). */
  rolesEvent(cluster: { id: string; name: string }, { probed, decision }: DiscoveryRound): EventInput | null {
    const changed = probed.some((p) => decision.roles.get(p.id) !== p.recorded);
    if (!changed && decision.warnings.length === 0) return null;
    const master = decision.masterId ? probed.find((p) => p.id === decision.masterId) : undefined;
    return {
      type: 'cluster.roles_discovered',
      actor: `controller:${this.config.controllerName}`,
      cluster,
      data: {
        master: master ? { host: master.host, port: master.port } : null,
        warnings: decision.warnings,
        nodes: probed.map((p) => ({
          host: p.host,
          port: p.port,
          role: decision.roles.get(p.id),
          ...(p.probe.ok
            ? {
                reported: p.probe.info.role,
                offset: p.probe.info.masterReplOffset,
                masterHost: p.probe.info.masterHost,
                masterPort: p.probe.info.masterPort,
              }
            : { error: p.probe.error, authFailure: p.probe.authFailure }),
        })),
      },
    };
  }
}

export interface RedisCredentials {
  username?: string;
  password?: string;
  tls: boolean;
}

/** One round of asking the nodes: each node's answer and the roles decided from them. */
export interface DiscoveryRound {
  probed: RoleDecisionInput[];
  decision: RoleDecision;
}
