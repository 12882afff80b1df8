import { ApiProperty } from '@nestjs/swagger';
import { CLUSTER_HEALTH_LABELS, type ClusterHealthLabel } from '../cluster-health-label.js';

export class FailoverInProgressDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'promoting', description: 'Phase of the state machine: decided, fencing, promoting, recorded, repointing' }) state: string;
  @ApiProperty({ format: 'date-time' }) startedAt: string;
}

export class LastFailoverDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'date-time', description: 'When it finished' }) at: string;
  @ApiProperty({ enum: ['auto', 'manual', 'switchover'] }) trigger: string;
  @ApiProperty({ enum: ['succeeded', 'failed', 'aborted'] }) outcome: string;
  @ApiProperty({ type: String, nullable: true, example: '10.0.0.1:6379' }) from: string | null;
  @ApiProperty({ type: String, nullable: true, example: '10.0.0.2:6379' }) to: string | null;
}

export class LastRefusalDto {
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ example: 'master-alive', description: 'master-alive, no-safe-candidate, maintenance, cooldown, backoff, cannot_decide, auto_failover_off' })
  code: string;
  @ApiProperty() reason: string;
}

export class OverviewItemDto {
  @ApiProperty() name: string;
  @ApiProperty({
    enum: CLUSTER_HEALTH_LABELS,
    description:
      'The first that applies: failing-over (a failover or switchover not finished) > master-down (objectively down, or down for a majority of the assigned agents, and no failover running) > cannot-decide > master-unreachable (some voting agents see the master down) > maintenance > degraded (a replica down or not linked, lagging beyond maxReplicaLagBytes, or no master recorded) > ok',
  })
  health: ClusterHealthLabel;
  @ApiProperty({
    type: [String],
    description: 'The sentences behind the label, its own first, then every other condition that holds',
    example: ['1 of 2 replicas up'],
  })
  reasons: string[];
  @ApiProperty({ type: String, nullable: true, example: '10.0.0.1:6379', description: 'The recorded master (host:port as recorded)' }) master: string | null;
  @ApiProperty() epoch: number;
  @ApiProperty({ description: 'Replicas up and linked to the recorded master per the agents’ latest readings' }) replicasUp: number;
  @ApiProperty({ description: 'Nodes other than the recorded master' }) replicasTotal: number;
  @ApiProperty({
    type: Number,
    nullable: true,
    description:
      "Largest (master offset − replica offset) from the agents' latest INFO readings (taken up to a second apart); null without a reading of the master",
  })
  worstLagBytes: number | null;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: "Largest master_last_io_seconds_ago among the replicas' latest readings; null when no agent sends it",
  })
  worstLagS: number | null;
  @ApiProperty({ type: [String], description: 'Zones whose voting agents all see the master down while agents elsewhere reach it' })
  unreachableFromZones: string[];
  @ApiProperty() autoFailover: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'End of the current maintenance (null when not in maintenance)' })
  maintenanceUntil: string | null;
  @ApiProperty({ type: FailoverInProgressDto, nullable: true }) failoverInProgress: FailoverInProgressDto | null;
  @ApiProperty({ type: LastFailoverDto, nullable: true, description: 'The latest finished failover or switchover' }) lastFailover: LastFailoverDto | null;
  @ApiProperty({
    type: LastRefusalDto,
    nullable: true,
    description: 'The current refusal of an automatic failover while the master is down (the leader’s decision; null on a standby)',
  })
  lastRefusal: LastRefusalDto | null;
}

export class OverviewDto {
  @ApiProperty({ format: 'date-time' }) generatedAt: string;
  @ApiProperty({ description: 'This controller leads; a standby has no automatic decisions (lastRefusal is null there)' }) leader: boolean;
  @ApiProperty({
    type: 'object',
    properties: Object.fromEntries(CLUSTER_HEALTH_LABELS.map((l) => [l, { type: 'integer' }])),
    required: [...CLUSTER_HEALTH_LABELS],
    description: 'Clusters per label (every label present)',
  })
  counts: Record<ClusterHealthLabel, number>;
  @ApiProperty({ type: [OverviewItemDto], description: 'By name' }) items: OverviewItemDto[];
}
