import { Check, Column, CreateDateColumn, Entity, OneToMany, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';
import { bigintNumber } from '../database/transformers.js';
import { NodeEntity } from './node.entity.js';

/** One replication group: the unit of failover (Sentinel's "monitored master"). */
@Entity({ name: 'clusters' })
@Unique('uq_clusters_name', ['name'])
@Check('chk_clusters_name', `"name" ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'`)
@Check('chk_clusters_quorum', `"quorum" >= 1`)
@Check('chk_clusters_down_after', `"down_after_ms" >= 100`)
@Check('chk_clusters_failover_timeout', `"failover_timeout_ms" >= 1000`)
@Check('chk_clusters_cooldown', `"cooldown_ms" >= 0`)
@Check('chk_clusters_write_safety', `"min_replicas_to_write" >= 0 AND "min_replicas_max_lag_s" >= 0`)
@Check('chk_clusters_max_lag', `"max_replica_lag_bytes" >= 0`)
@Check('chk_clusters_epoch', `"epoch" >= 0`)
@Check('chk_clusters_dns_ttl', `"dns_ttl" BETWEEN 0 AND 86400`)
export class ClusterEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'integer' })
  quorum: number;

  @Column({ name: 'down_after_ms', type: 'integer' })
  downAfterMs: number;

  @Column({ name: 'failover_timeout_ms', type: 'integer' })
  failoverTimeoutMs: number;

  @Column({ name: 'cooldown_ms', type: 'integer' })
  cooldownMs: number;

  @Column({ name: 'auto_failover', type: 'boolean' })
  autoFailover: boolean;

  /** An automatic failover also needs the master's own evidence that it is dead (its PING, its replicas' links). */
  @Column({ name: 'require_master_dead_evidence', type: 'boolean', default: true })
  requireMasterDeadEvidence: boolean;

  @Column({ name: 'maintenance_until', type: 'timestamptz', nullable: true })
  maintenanceUntil: Date | null;

  @Column({ name: 'min_replicas_to_write', type: 'integer' })
  minReplicasToWrite: number;

  @Column({ name: 'min_replicas_max_lag_s', type: 'integer' })
  minReplicasMaxLagS: number;

  @Column({ name: 'max_replica_lag_bytes', type: 'bigint', transformer: bigintNumber })
  maxReplicaLagBytes: number;

  @Column({ name: 'redis_username', type: 'text', nullable: true })
  redisUsername: string | null;

  /** AES-256-GCM sealed; see `SecretBox`. Never leaves the controller. */
  @Column({ name: 'redis_password_sealed', type: 'text', nullable: true })
  redisPasswordSealed: string | null;

  @Column({ name: 'redis_tls', type: 'boolean' })
  redisTls: boolean;

  @Column({ name: 'dns_names', type: 'text', array: true })
  dnsNames: string[];

  /** TTL of records written to an external DNS server (null: the controller's DNS_TTL). */
  @Column({ name: 'dns_ttl', type: 'integer', nullable: true })
  dnsTtl: number | null;

  /** Fencing token: raised by every failover and switchover. */
  @Column({ type: 'bigint', transformer: bigintNumber })
  epoch: number;

  /** When the current master became master (kept by a trigger on `nodes`). */
  @Column({ name: 'master_since', type: 'timestamptz', nullable: true })
  masterSince: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @OneToMany(() => NodeEntity, (node) => node.cluster)
  nodes: NodeEntity[];
}
