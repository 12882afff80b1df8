import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A running controller replica and the address of its Sentinel-compatible endpoint (refreshed every few seconds). */
@Entity({ name: 'controller_peers' })
export class ControllerPeerEntity {
  /** The replica's process identity (`LeadershipService.identity`). */
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_controller_peers' })
  identity: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ name: 'sentinel_host', type: 'text', nullable: true })
  sentinelHost: string | null;

  @Column({ name: 'sentinel_port', type: 'integer', nullable: true })
  sentinelPort: number | null;

  @Column({ name: 'seen_at', type: 'timestamptz', default: () => 'now()' })
  seenAt: Date;
}
