import { isIP } from 'node:net';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type JobsOptions, UnrecoverableError } from 'bullmq';
import { DataSource } from 'typeorm';
import {
  compareAndSwap,
  DnsUpdateError,
  queryAddresses,
  querySrv,
  type RecordChange,
  type SrvData,
  type UpdateTarget,
} from '../../../../libs/dns-update/src/index.js';
import { CONTROLLER_CONFIG, type ControllerConfig, type DnsUpdateConfig } from '../config/config.js';
import { FailoverStore } from '../failover/failover-store.js';
import { type MasterChanged, MasterChanges } from '../failover/master-changes.js';
import { LeadershipService } from '../leadership/leadership.service.js';
import { JobsService } from '../jobs/jobs.service.js';
import { QUEUES } from '../jobs/queues.js';
import { TopologyCache } from '../topology/topology-cache.service.js';

export const DNS_JOBS = {
  /** Write one record of a new master to the external DNS server. */
  publishRecord: 'publish-record',
} as const;

type Address = { host: string; port: number };

/** One record to publish after a master change. */
export interface PublishRecordJob {
  failoverId: string;
  clusterId: string;
  cluster: string;
  epoch: number;
  /** Owner name (absolute). */
  name: string;
  type: 'A' | 'AAAA' | 'SRV';
  ttl: number;
  from: Address | null;
  to: Address;
}

/** One record Vigil last wrote to the external server (RFC 2136), from the failover steps. */
export interface PushedRecord {
  name: string;
  type: 'A' | 'AAAA' | 'SRV';
  /** The last value written successfully: an address, or `priority weight port target` for SRV. */
  value: string | null;
  valueAt: Date | null;
  epoch: number | null;
  /** The newest attempt when it came after that success and did not succeed. */
  laterAttempt: { status: string; at: Date; note: string | null } | null;
}

export function publishRecordJobOptions(job: PublishRecordJob): JobsOptions {
  return {
    jobId: `dns.${job.failoverId}.${job.type}.${job.name}`,
    attempts: 8,
    backoff: { type: 'exponential', delay: 500 },
    removeOnComplete: 1000,
    removeOnFail: false,
  };
}

function addressType(host: string): 'A' | 'AAAA' | null {
  const family = isIP(host);
  return family === 4 ? 'A' : family === 6 ? 'AAAA' : null;
}

function inZone(name: string, zone: string): boolean {
  const n = name.toLowerCase().replace(/\.?$/, '.');
  return n === zone || n.endsWith(`.${zone}`);
}

/** The records a master change writes: the address of each name (A or AAAA when the host is an IP) and `_redis._tcp.<name>` SRV. */
export function recordsFor(change: MasterChanged, names: string[], ttl: number): Omit<PublishRecordJob, 'failoverId' | 'clusterId' | 'cluster' | 'epoch'>[] {
  const out: Omit<PublishRecordJob, 'failoverId' | 'clusterId' | 'cluster' | 'epoch'>[] = [];
  const type = addressType(change.to.host);
  for (const raw of names) {
    const name = raw.toLowerCase().replace(/\.?$/, '.');
    if (type) out.push({ name, type, ttl, from: change.from, to: change.to });
    out.push({ name: `_redis._tcp.${name}`, type: 'SRV', ttl, from: change.from, to: change.to });
  }
  return out;
}

/**
 * RFC 2136 updates of an external authoritative server (BIND9, Knot, PowerDNS) when a master changes,
 * signed with TSIG. Each record is a BullMQ job with backoff; each update is a compare-and-swap on the
 * old master's record (a prerequisite in the same message as the delete and the add), so a stale
 * controller cannot overwrite a newer record. Every outcome is a step of the failover record.
 */
@Injectable()
export class DnsUpdateService implements OnApplicationBootstrap {
  private readonly logger = new Logger(DnsUpdateService.name);
  private readonly settings: DnsUpdateConfig | undefined;

  constructor(
    private readonly jobs: JobsService,
    @InjectDataSource() private readonly db: DataSource,
    private readonly masterChanges: MasterChanges,
    private readonly store: FailoverStore,
    private readonly topology: TopologyCache,
    private readonly leadership: LeadershipService,
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
  ) {
    this.settings = config.dnsUpdate;
  }

  onApplicationBootstrap(): void {
    if (!this.settings) return;
    this.masterChanges.on((change: MasterChanged) => void this.enqueue(change));
  }

  /** Whether RFC 2136 updates are configured (`DNS_UPDATE_SERVER`). */
  get enabled(): boolean {
    return this.settings !== undefined;
  }

  /**
   * A cluster's names in the external zone (absolute, lower case) and, per name and record type, the
   * last value written successfully and a later attempt that did not succeed, from the `dns_published`
   * steps of its failovers (what this module keeps of its pushes). The external server is not asked.
   */
  async lastPushes(cluster: { id: string; name: string }): Promise<{ names: string[]; outside: string[]; records: PushedRecord[] }> {
    const zone = this.settings!.zone;
    const all = this.names(cluster.name).map((n) => n.toLowerCase().replace(/\.?$/, '.'));
    const rows = await this.db.query<
      { name: string; type: PushedRecord['type']; status: string; at: Date; value: string | null; note: string | null; epoch: string }[]
    >(
      `SELECT DISTINCT ON (s.detail->>'name', s.detail->>'type', s.status = 'succeeded')
              s.detail->>'name' AS name, s.detail->>'type' AS type, s.status, s.at, s.detail->>'value' AS value,
              coalesce(s.detail->>'error', s.detail->>'reason') AS note, f.epoch::text AS epoch
         FROM failover_steps s JOIN failovers f ON f.id = s.failover_id
        WHERE f.cluster_id = $1 AND s.name = 'dns_published' AND s.detail->>'type' IS NOT NULL
        ORDER BY s.detail->>'name', s.detail->>'type', s.status = 'succeeded', s.at DESC`,
      [cluster.id],
    );
    const records = new Map<string, PushedRecord>();
    for (const r of rows) {
      const key = `${r.name} ${r.type}`;
      const record = records.get(key) ?? { name: r.name, type: r.type, value: null, valueAt: null, epoch: null, laterAttempt: null };
      if (r.status === 'succeeded') Object.assign(record, { value: r.value, valueAt: r.at, epoch: Number(r.epoch) });
      else record.laterAttempt = { status: r.status, at: r.at, note: r.note };
      records.set(key, record);
    }
    for (const record of records.values()) {
      if (record.laterAttempt && record.valueAt && record.laterAttempt.at <= record.valueAt) record.laterAttempt = null;
    }
    return { names: all.filter((n) => inZone(n, zone)), outside: all.filter((n) => !inZone(n, zone)), records: [...records.values()] };
  }

  private target(): UpdateTarget {
    const s = this.settings!;
    return { server: s.server, port: s.port, zone: s.zone, timeoutMs: s.timeoutMs, ...(s.key ? { key: s.key } : {}) };
  }

  /** The names of a cluster in the external zone: its `dnsNames`, or `<cluster>.<DNS_UPDATE_ZONE>`. */
  private names(cluster: string): string[] {
    const c = this.topology.snapshot.clustersByName.get(cluster);
    return c && c.dnsNames.length > 0 ? c.dnsNames : [`${cluster}.${this.settings!.zone}`];
  }

  async enqueue(change: MasterChanged): Promise<void> {
    const zone = this.settings!.zone;
    const c = this.topology.snapshot.clustersByName.get(change.cluster);
    const ttl = c?.dnsTtl ?? this.config.dnsTtl;
    try {
      const names = this.names(change.cluster);
      const outside = names.filter((n) => !inZone(n, zone));
      if (outside.length > 0) {
        await this.store.step(change.failoverId, 'dns_published', 'skipped', new Date(), { names: outside, reason: `not in DNS_UPDATE_ZONE ${zone}` });
      }
      for (const r of recordsFor(
        change,
        names.filter((n) => inZone(n, zone)),
        ttl,
      )) {
        const job: PublishRecordJob = { ...r, failoverId: change.failoverId, clusterId: change.clusterId, cluster: change.cluster, epoch: change.epoch };
        await this.jobs.add(QUEUES.dns, DNS_JOBS.publishRecord, job, publishRecordJobOptions(job));
      }
    } catch (err) {
      this.logger.error({ cluster: change.cluster, err: (err as Error).message }, 'could not enqueue the DNS updates');
    }
  }

  /** The cluster's epoch in PostgreSQL now (the fencing token every write is checked against). */
  private async currentEpoch(clusterId: string): Promise<number | undefined> {
    const [row] = await this.db.query<{ epoch: string }[]>(`SELECT epoch::text AS epoch FROM clusters WHERE id = $1`, [clusterId]);
    return row ? Number(row.epoch) : undefined;
  }

  /** Runs one record job; throws to be retried, `UnrecoverableError` when retrying cannot help. */
  async publish(job: PublishRecordJob, attempt: number): Promise<string> {
    const target = this.target();
    const detail = { name: job.name, type: job.type, server: `${target.server}:${target.port}`, attempt };
    const epoch = await this.currentEpoch(job.clusterId);
    if (epoch === undefined || epoch > job.epoch) {
      await this.store.step(job.failoverId, 'dns_published', 'skipped', new Date(), {
        ...detail,
        reason: `superseded: the cluster is at epoch ${epoch ?? 'deleted'}`,
      });
      return 'superseded';
    }
    const change = this.change(job, this.expected(job));
    try {
      await compareAndSwap(target, change);
      await this.store.step(job.failoverId, 'dns_published', 'succeeded', new Date(), { ...detail, value: describe(job) });
      return 'updated';
    } catch (err) {
      if (err instanceof DnsUpdateError && (err.rcode === 'NXRRSET' || err.rcode === 'YXRRSET')) return this.reconcile(job, target, detail, err);
      return this.failed(job, detail, err);
    }
  }

  /**
   * The prerequisite failed: the record is not the old master's. It may already hold the new master
   * (an earlier attempt whose reply was lost); otherwise it is rewritten only by the leader, while the
   * cluster is still at this epoch, as a compare-and-swap on what the server holds now.
   */
  private async reconcile(job: PublishRecordJob, target: UpdateTarget, detail: Record<string, unknown>, first: DnsUpdateError): Promise<string> {
    try {
      const current = await this.read(job, target);
      if (current.shown.length === 1 && current.shown[0] === describe(job)) {
        await this.store.step(job.failoverId, 'dns_published', 'succeeded', new Date(), { ...detail, value: describe(job), note: 'already in place' });
        return 'already in place';
      }
      const epoch = await this.currentEpoch(job.clusterId);
      if (!this.leadership.isLeader() || epoch !== job.epoch) {
        await this.store.step(job.failoverId, 'dns_published', 'skipped', new Date(), {
          ...detail,
          reason: `the server holds ${current.shown.join(', ') || 'nothing'}, not the old master; not overwritten (epoch ${epoch}, leader ${this.leadership.isLeader()})`,
        });
        throw new UnrecoverableError(`${job.name} ${job.type}: ${first.message}`);
      }
      await compareAndSwap(target, this.change(job, current.expected));
      await this.store.step(job.failoverId, 'dns_published', 'succeeded', new Date(), { ...detail, value: describe(job), replaced: current.shown });
      return 'updated';
    } catch (err) {
      if (err instanceof UnrecoverableError) throw err;
      return this.failed(job, detail, err);
    }
  }

  private async failed(job: PublishRecordJob, detail: Record<string, unknown>, err: unknown): Promise<never> {
    const e = err as Error & { rcode?: string; tsigError?: string };
    const permanent = e instanceof DnsUpdateError && ['NOTAUTH', 'REFUSED', 'NOTZONE', 'FORMERR', 'NOTIMP'].includes(e.rcode);
    await this.store.step(job.failoverId, 'dns_published', 'failed', new Date(), {
      ...detail,
      error: e.message,
      ...(e.rcode ? { rcode: e.rcode } : {}),
      ...(e.tsigError ? { tsigError: e.tsigError } : {}),
      willRetry: !permanent,
    });
    this.logger.warn({ cluster: job.cluster, name: job.name, type: job.type, err: e.message }, 'DNS update failed');
    if (permanent) throw new UnrecoverableError(e.message);
    throw err;
  }

  /** The old master's record, when it can be expressed in this record type. */
  private expected(job: PublishRecordJob): RecordChange['expected'] {
    const { from } = job;
    if (!from) return [];
    if (job.type === 'SRV') return [{ priority: 0, weight: 0, port: from.port, target: srvTarget(job.name, from) }];
    return addressType(from.host) === job.type ? [from.host] : null;
  }

  private change(job: PublishRecordJob, expected: RecordChange['expected']): RecordChange {
    if (job.type === 'SRV') {
      return {
        name: job.name,
        type: 'SRV',
        ttl: job.ttl,
        expected: expected as SrvData[] | null,
        next: { priority: 0, weight: 0, port: job.to.port, target: srvTarget(job.name, job.to) },
      };
    }
    return { name: job.name, type: job.type, ttl: job.ttl, expected: expected as string[] | null, next: job.to.host };
  }

  /** What the server holds for the record now: as shown in steps, and as a prerequisite for a compare-and-swap. */
  private async read(job: PublishRecordJob, target: UpdateTarget): Promise<{ shown: string[]; expected: RecordChange['expected'] }> {
    if (job.type === 'SRV') {
      const srv = await querySrv(target, job.name);
      return { shown: srv.map((x) => `${x.priority} ${x.weight} ${x.port} ${x.target.replace(/\.?$/, '.')}`), expected: srv };
    }
    const addresses = await queryAddresses(target, job.name, job.type);
    return { shown: addresses, expected: addresses };
  }
}

/** The SRV target: the record's own name when the host is an IP (its A/AAAA holds the address), else the host name. */
function srvTarget(srvName: string, host: Address): string {
  return isIP(host.host) ? srvName.replace(/^_redis\._tcp\./, '') : host.host.replace(/\.?$/, '.');
}

function describe(job: PublishRecordJob): string {
  return job.type === 'SRV' ? `0 0 ${job.to.port} ${srvTarget(job.name, job.to)}` : job.to.host;
}
