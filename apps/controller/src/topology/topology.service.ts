import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { actorOf, type Principal } from '../auth/principal.js';
import { VigilError } from '../common/errors.js';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../config/config.js';
import { JobsService } from '../jobs/jobs.service.js';
import { discoverRolesJobOptions, QUEUES, TOPOLOGY_JOBS } from '../jobs/queues.js';
import { CLUSTER_READ_SQL, type ClusterNodeRow, type ClusterView, clusterViews } from './cluster-read.js';
import { byAddress, clusterInsert, type NewCluster, type NewNode } from './cluster-insert.js';
import { ClusterEntity } from './cluster.entity.js';
import type { ClusterSettingsDto, CreateClusterDto, NodeInputDto, NodeUpdateDto } from './dto/cluster.dto.js';
import { NodeEntity } from './node.entity.js';
import { RoleDiscoveryService } from './role-discovery.service.js';
import { SecretBox } from './secret-box.js';
import { TopologyCache } from './topology-cache.service.js';
import { addressKey } from './topology-snapshot.js';

/** Settings a new cluster gets unless the request says otherwise (quorum and downAfterMs are required). */
export const DEFAULT_CLUSTER_SETTINGS = {
  failoverTimeoutMs: 60_000,
  cooldownMs: 300_000,
  autoFailover: true,
  requireMasterDeadEvidence: true,
  maintenanceUntil: null,
  minReplicasToWrite: 0,
  minReplicasMaxLagS: 10,
  maxReplicaLagBytes: 0,
  dnsNames: [] as string[],
  dnsTtl: null as number | null,
};

export const DEFAULT_NODE_PRIORITY = 100;

/** Plain settings, copied as they are from create/update input to the entity and the event log. */
const SETTING_KEYS = [
  'quorum',
  'downAfterMs',
  'failoverTimeoutMs',
  'cooldownMs',
  'autoFailover',
  'requireMasterDeadEvidence',
  'maintenanceUntil',
  'minReplicasToWrite',
  'minReplicasMaxLagS',
  'maxReplicaLagBytes',
  'dnsNames',
  'dnsTtl',
] as const satisfies readonly (keyof ClusterSettingsDto)[];

/** A cluster with its nodes, in address order. */
export type { ClusterView } from './cluster-read.js';

@Injectable()
export class TopologyService {
  private readonly logger = new Logger(TopologyService.name);
  private readonly secrets: SecretBox;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly audit: AuditService,
    private readonly discovery: RoleDiscoveryService,
    private readonly jobs: JobsService,
    private readonly cache: TopologyCache,
    @Inject(CONTROLLER_CONFIG) config: ControllerConfig,
  ) {
    this.secrets = new SecretBox(config.secretKey, config.secretKeysOld);
  }

  /**
   * A topology write: one transaction, then this replica's cache reloads the clusters it touched (named
   * with `touch`) before the caller hears back. The other replicas follow on the NOTIFY the commit sends.
   */
  private async write<T>(work: (em: EntityManager, touch: (clusterId: string) => void) => Promise<T>): Promise<T> {
    const touched = new Set<string>();
    const result = await this.db.transaction((em) => work(em, (id) => touched.add(id)));
    await this.cache.reloadClusters(touched);
    return result;
  }

  /**
   * The nodes are asked for their roles first, so the cluster is written with them in one transaction
   * (one commit, one reload on every replica); nodes that did not answer are asked again in the
   * background. A taken name or address is left to the database's constraints, not looked up first.
   */
  async create(input: CreateClusterDto, by: Principal, requestId?: string): Promise<ClusterView> {
    assertDistinctAddresses(input.nodes, 'nodes');
    // Answered from memory when the snapshot already shows it; the database's constraints decide races.
    const known = this.cache.snapshot;
    if (known.clustersByName.has(input.name)) throw nameTaken(input.name);
    assertNoneTaken(input.nodes, 'nodes', (n) => known.nodesByAddress.has(addressKey(n.host, n.port)));
    const round = await this.discovery.probe(
      input.nodes.map((n, i) => ({ id: String(i), ...addressOf(n), recorded: 'unknown' as const })),
      { username: input.redis?.username, password: input.redis?.password, tls: input.redis?.tls ?? false },
    );
    const checkedAt = new Date();
    const cluster: NewCluster = {
      id: randomUUID(),
      name: input.name,
      ...DEFAULT_CLUSTER_SETTINGS,
      ...definedSettings(input),
      quorum: input.quorum,
      downAfterMs: input.downAfterMs,
      redisUsername: input.redis?.username ?? null,
      redisPasswordSealed: input.redis?.password !== undefined ? this.secrets.seal(input.redis.password) : null,
      redisTls: input.redis?.tls ?? false,
      epoch: 0,
      masterSince: null,
    };
    const nodes: NewNode[] = input.nodes.map((n, i) => ({
      id: randomUUID(),
      ...this.nodeRow(cluster.id, n),
      role: round.decision.roles.get(String(i)) ?? 'unknown',
      roleCheckedAt: round.probed[i]!.probe.ok ? checkedAt : null,
    }));
    const discovered = this.discovery.rolesEvent(cluster, round);
    const events = [
      { type: 'cluster.created', actor: actorOf(by), cluster, data: { settings: describeSettings(input), nodes: input.nodes.map(addressOf) } },
      ...(discovered ? [discovered] : []),
    ];
    // One statement, so no transaction around it; then this replica's cache, as `write` does.
    const insert = clusterInsert(cluster, nodes, events);
    const [written] = await this.db.query<{ created_at: Date; updated_at: Date }[]>(insert.sql, insert.params).catch(async (err: unknown) => {
      throw (await this.takenBy(err, input.name, input.nodes, 'nodes')) ?? err;
    });
    await this.cache.reloadClusters([cluster.id]);
    if (!round.probed.every((p) => p.probe.ok)) {
      // Bounded: a job backend that is away keeps the retry in the outbox instead of holding the request.
      await this.jobs.add(QUEUES.topology, TOPOLOGY_JOBS.discoverRoles, { clusterId: cluster.id, requestId }, discoverRolesJobOptions(cluster.id));
    }
    // The rows as written (the statement returned the generated timestamps), in the order a read gives them.
    const createdAt = written!.created_at;
    return {
      cluster: Object.assign(new ClusterEntity(), cluster, { createdAt, updatedAt: written!.updated_at }),
      nodes: nodes.map((n) => Object.assign(new NodeEntity(), n, { createdAt })).sort(byAddress),
    };
  }

  /** The 409 for a write refused by the name or address constraint (null for any other error). */
  private async takenBy(err: unknown, name: string, nodes: NodeInputDto[], field: string): Promise<VigilError | null> {
    const constraint = uniqueViolation(err);
    if (constraint === 'uq_clusters_name') return nameTaken(name);
    if (constraint !== 'uq_nodes_address') return null;
    try {
      await assertAddressesFree(this.db.manager, nodes, field);
    } catch (taken) {
      if (taken instanceof VigilError) return taken;
    }
    return VigilError.conflict('a node address already belongs to a cluster', field === 'body' ? 'host' : field);
  }

  /** One page of clusters in name order, after the cluster named `after`, each with its nodes; `next` names the page's last when more follow. */
  async list(page: { after?: string; limit: number }): Promise<{ views: ClusterView[]; next: string | null }> {
    const views = clusterViews(await this.db.query<ClusterNodeRow[]>(CLUSTER_READ_SQL.page, [page.after ?? null, page.limit + 1]));
    const more = views.length > page.limit;
    if (more) views.pop();
    return { views, next: more ? views[views.length - 1]!.cluster.name : null };
  }

  async get(name: string): Promise<ClusterView> {
    return this.load(this.db.manager, name);
  }

  async update(name: string, input: ClusterSettingsDto, by: Principal, expectedEpoch?: number): Promise<ClusterView> {
    await this.write(async (em, touch) => {
      const { cluster } = await this.load(em, name, true);
      touch(cluster.id);
      assertEpoch(cluster, expectedEpoch);
      const changes = describeSettings(input);
      Object.assign(cluster, definedSettings(input));
      if (input.redis) {
        if (input.redis.username !== undefined) cluster.redisUsername = input.redis.username;
        if (input.redis.password !== undefined) cluster.redisPasswordSealed = this.secrets.seal(input.redis.password);
        if (input.redis.tls !== undefined) cluster.redisTls = input.redis.tls;
      }
      await em.save(cluster);
      await this.audit.record({ type: 'cluster.updated', actor: actorOf(by), cluster, data: { changes } }, em);
    });
    return this.get(name);
  }

  /**
   * Puts the cluster in maintenance until `until` (no automatic failover), or ends it (`null`).
   * With `expectedEpoch`, refuses (409) when the cluster has moved on.
   */
  async setMaintenance(name: string, until: Date | null, reason: string | undefined, by: Principal, expectedEpoch?: number): Promise<ClusterView> {
    await this.write(async (em, touch) => {
      const { cluster } = await this.load(em, name, true);
      touch(cluster.id);
      assertEpoch(cluster, expectedEpoch);
      cluster.maintenanceUntil = until;
      await em.save(cluster);
      await this.audit.record(
        {
          type: until ? 'cluster.maintenance_started' : 'cluster.maintenance_ended',
          actor: actorOf(by),
          cluster,
          data: { until: until?.toISOString() ?? null, ...(reason ? { reason } : {}), epoch: cluster.epoch },
        },
        em,
      );
    });
    return this.get(name);
  }

  async remove(name: string, by: Principal): Promise<void> {
    await this.write(async (em, touch) => {
      const { cluster, nodes } = await this.load(em, name, true);
      touch(cluster.id);
      await em.delete(ClusterEntity, { id: cluster.id });
      await this.audit.record({ type: 'cluster.deleted', actor: actorOf(by), cluster, data: { nodes: nodes.map(addressOf), epoch: cluster.epoch } }, em);
    });
  }

  async addNode(name: string, input: NodeInputDto, by: Principal, requestId?: string): Promise<NodeEntity> {
    const node = await this.write(async (em, touch) => {
      const { cluster } = await this.load(em, name, true);
      touch(cluster.id);
      await assertAddressesFree(em, [input], 'body');
      const saved = await em.save(this.newNode(em, cluster.id, input));
      await this.audit.record(
        { type: 'node.added', actor: actorOf(by), cluster, data: { nodeId: saved.id, ...addressOf(input), priority: saved.priority, zone: saved.zone } },
        em,
      );
      return saved;
    });
    await this.discoverOrSchedule(node.clusterId, requestId);
    return this.db.getRepository(NodeEntity).findOneByOrFail({ id: node.id });
  }

  async updateNode(name: string, nodeId: string, input: NodeUpdateDto, by: Principal): Promise<NodeEntity> {
    return this.write(async (em, touch) => {
      const { cluster, nodes } = await this.load(em, name, true);
      touch(cluster.id);
      const node = nodes.find((n) => n.id === nodeId);
      if (!node) throw VigilError.notFound(`node ${nodeId} in cluster ${name}`);
      if (input.priority !== undefined) node.priority = input.priority;
      if (input.zone !== undefined) node.zone = input.zone;
      await em.save(node);
      await this.audit.record({ type: 'node.updated', actor: actorOf(by), cluster, data: { nodeId, ...addressOf(node), changes: { ...input } } }, em);
      return node;
    });
  }

  async removeNode(name: string, nodeId: string, by: Principal): Promise<void> {
    await this.write(async (em, touch) => {
      const { cluster, nodes } = await this.load(em, name, true);
      touch(cluster.id);
      const node = nodes.find((n) => n.id === nodeId);
      if (!node) throw VigilError.notFound(`node ${nodeId} in cluster ${name}`);
      if (nodes.length === 1) throw VigilError.conflict('a cluster keeps at least one node; delete the cluster instead', 'nodeId');
      await em.delete(NodeEntity, { id: node.id });
      await this.audit.record({ type: 'node.removed', actor: actorOf(by), cluster, data: { nodeId, ...addressOf(node), role: node.role } }, em);
    });
  }

  /** Probes the nodes now; whatever stays unknown is retried in the background with backoff. */
  private async discoverOrSchedule(clusterId: string, requestId?: string): Promise<void> {
    const complete = await this.discovery.discover(clusterId).catch((err: unknown) => {
      this.logger.warn({ err, clusterId }, 'role discovery failed; scheduling a retry');
      return false;
    });
    if (!complete) {
      // Bounded: a job backend that is away keeps the retry in the outbox instead of holding the request.
      await this.jobs.add(QUEUES.topology, TOPOLOGY_JOBS.discoverRoles, { clusterId, requestId }, discoverRolesJobOptions(clusterId));
    }
  }

  private newNode(em: EntityManager, clusterId: string, input: NodeInputDto): NodeEntity {
    return em.create(NodeEntity, this.nodeRow(clusterId, input));
  }

  /** A new node's row, as `addNode` and `create` write it (role unknown until asked). */
  private nodeRow(clusterId: string, input: NodeInputDto): Omit<NewNode, 'id'> {
    return {
      clusterId,
      host: input.host.toLowerCase(),
      port: input.port,
      role: 'unknown',
      priority: input.priority ?? DEFAULT_NODE_PRIORITY,
      zone: input.zone ?? null,
      roleCheckedAt: null,
      roleEpoch: 0,
    };
  }

  private async load(em: EntityManager, name: string, lock = false): Promise<ClusterView> {
    const [view] = clusterViews(await em.query<ClusterNodeRow[]>(lock ? CLUSTER_READ_SQL.oneForUpdate : CLUSTER_READ_SQL.one, [name]));
    if (!view) throw VigilError.notFound(`cluster ${name}`);
    return view;
  }
}

function nameTaken(name: string): VigilError {
  return VigilError.conflict(`a cluster named ${name} already exists`, 'name');
}

/** The constraint a unique violation (23505) names, if `err` is one. */
function uniqueViolation(err: unknown): string | undefined {
  const driver = (err as { driverError?: { code?: string; constraint?: string } } | undefined)?.driverError;
  return driver?.code === '23505' ? driver.constraint : undefined;
}

/** 409 when the caller acted on an epoch the cluster has left. */
export function assertEpoch(cluster: { name: string; epoch: number }, expectedEpoch: number | undefined): void {
  if (expectedEpoch !== undefined && cluster.epoch !== expectedEpoch) {
    throw VigilError.conflict(`cluster ${cluster.name} is at epoch ${cluster.epoch}, not ${expectedEpoch}`, 'expectedEpoch');
  }
}

function addressOf(node: { host: string; port: number }): { host: string; port: number } {
  return { host: node.host.toLowerCase(), port: node.port };
}

/** The plain settings an input gives (absent ones left out). */
function definedSettings(input: ClusterSettingsDto): Partial<Pick<ClusterSettingsDto, (typeof SETTING_KEYS)[number]>> {
  return Object.fromEntries(SETTING_KEYS.filter((key) => input[key] !== undefined).map((key) => [key, input[key]]));
}

/** The settings in an input, for the event log, with the Redis password replaced by a marker. */
function describeSettings(input: ClusterSettingsDto): Record<string, unknown> {
  const settings: Record<string, unknown> = definedSettings(input);
  if (input.redis) settings['redis'] = { ...input.redis, ...(input.redis.password !== undefined ? { password: '<redacted>' } : {}) };
  return settings;
}

function assertDistinctAddresses(nodes: NodeInputDto[], field: string): void {
  const seen = new Map<string, number>();
  nodes.forEach((n, i) => {
    const key = `${n.host.toLowerCase()}:${n.port}`;
    const first = seen.get(key);
    if (first !== undefined) throw VigilError.validation([{ field: `${field}[${i}]`, reason: `duplicates ${field}[${first}] (${key})` }]);
    seen.set(key, i);
  });
}

async function assertAddressesFree(em: EntityManager, nodes: NodeInputDto[], field: string): Promise<void> {
  const taken = await em.findBy(
    NodeEntity,
    nodes.map((n) => ({ host: n.host.toLowerCase(), port: n.port })),
  );
  assertNoneTaken(nodes, field, (n) => taken.some((t) => t.host === n.host.toLowerCase() && t.port === n.port));
}

/** 409 naming the first node whose address `isTaken`. */
function assertNoneTaken(nodes: NodeInputDto[], field: string, isTaken: (n: NodeInputDto) => boolean): void {
  const i = nodes.findIndex(isTaken);
  if (i >= 0) {
    const n = nodes[i]!;
    throw VigilError.conflict(`${n.host}:${n.port} already belongs to a cluster`, field === 'body' ? 'host' : `${field}[${i}]`);
  }
}
