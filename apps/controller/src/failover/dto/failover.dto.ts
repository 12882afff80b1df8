import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsDate, IsInt, IsOptional, IsString, Matches, MaxLength, Min } from 'class-validator';
import type { FailoverStepEntity } from '../failover-step.entity.js';
import { FAILOVER_OUTCOMES, FAILOVER_STATES, FAILOVER_TRIGGERS, type FailoverEntity } from '../failover.entity.js';

export class FailoverStepDto {
  @ApiProperty() seq: number;
  @ApiProperty({ example: 'promoted', description: 'fault_seen, odown, decided, candidates, old_master_fenced, promoted, published, replicas_repointed, …' })
  name: string;
  @ApiProperty({ enum: ['started', 'succeeded', 'failed', 'skipped'] }) status: string;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ description: 'Milliseconds since the previous step' }) sincePreviousMs: number;
  @ApiProperty({ type: 'object', additionalProperties: true }) detail: Record<string, unknown>;

  static list(steps: FailoverStepEntity[]): FailoverStepDto[] {
    const sorted = [...steps].sort((a, b) => a.seq - b.seq);
    return sorted.map((s, i) => ({
      seq: s.seq,
      name: s.name,
      status: s.status,
      at: s.at.toISOString(),
      sincePreviousMs: i === 0 ? 0 : s.at.getTime() - sorted[i - 1]!.at.getTime(),
      detail: s.detail,
    }));
  }
}

export class FailoverDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() cluster: string;
  @ApiProperty({ enum: FAILOVER_TRIGGERS }) trigger: string;
  @ApiProperty({ description: 'The epoch this failover raised the cluster to' }) epoch: number;
  @ApiPropertyOptional({ type: String, nullable: true, example: '10.0.0.1:6379' }) from: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, example: '10.0.0.2:6379' }) to: string | null;
  @ApiProperty({ enum: FAILOVER_OUTCOMES }) outcome: string;
  @ApiProperty({
    enum: FAILOVER_STATES,
    description: 'Phase of the failover state machine: decided → fencing → promoting → recorded → repointing → done | failed | aborted',
  })
  state: string;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'The node chosen for promotion' }) target: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) error: string | null;
  @ApiProperty() actor: string;
  @ApiProperty({ format: 'date-time' }) startedAt: string;
  @ApiPropertyOptional({ type: String, format: 'date-time', nullable: true }) finishedAt: string | null;
  @ApiPropertyOptional({ type: Number, nullable: true }) durationMs: number | null;

  static from(f: FailoverEntity): FailoverDto {
    return {
      id: f.id,
      cluster: f.clusterName,
      trigger: f.trigger,
      epoch: f.epoch,
      from: f.fromAddress,
      to: f.toAddress,
      outcome: f.outcome,
      state: f.state,
      target: f.targetAddress,
      error: f.error,
      actor: f.actor,
      startedAt: f.startedAt.toISOString(),
      finishedAt: f.finishedAt?.toISOString() ?? null,
      durationMs: f.finishedAt ? f.finishedAt.getTime() - f.startedAt.getTime() : null,
    };
  }
}

export class FailoverDetailDto extends FailoverDto {
  @ApiProperty({ type: [FailoverStepDto] }) steps: FailoverStepDto[];
}

export class FailoverListDto {
  @ApiProperty({ type: [FailoverDto] }) items: FailoverDto[];
}

const ADDRESS = /^[A-Za-z0-9.-]{1,253}:\d{1,5}$|^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/;

export class FailoverRequestDto {
  @ApiPropertyOptional({ example: '10.0.0.2:6379', description: 'Promote this node (host:port) if it is eligible; else the best candidate' })
  @IsOptional()
  @Matches(ADDRESS, { message: 'must be host:port' })
  target?: string;

  @ApiPropertyOptional({
    description:
      'Forced failover only, with `target`: promote the target even though it holds less data than the master had (first sync not finished, never synced, stale or lagging). Acknowledged writes may be lost.',
  })
  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  acceptDataLoss?: boolean;

  @ApiPropertyOptional({ description: 'Refuse (409) unless the cluster is still at this epoch' })
  @IsOptional()
  @IsInt({ message: 'must be an integer' })
  @Min(0)
  expectedEpoch?: number;

  @ApiPropertyOptional({
    default: false,
    description: 'Act although the cluster is in maintenance (otherwise 409). The Sentinel endpoint has no such flag: it always refuses in maintenance.',
  })
  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  ignoreMaintenance?: boolean;
}

export class CandidateDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() host: string;
  @ApiProperty() port: number;
  @ApiPropertyOptional() priority?: number;
  @ApiPropertyOptional({ description: 'Replication offset read just now' }) offset?: number;
  @ApiPropertyOptional({ description: 'Why it cannot be promoted' }) reason?: string;
  @ApiPropertyOptional({
    enum: ['unreachable', 'down', 'not-replica', 'priority-0', 'no-data', 'syncing', 'stale', 'lagging', 'not-target'],
    description: 'Why it cannot be promoted, as a code (no-data, syncing, stale and lagging can be overridden with acceptDataLoss)',
  })
  code?: string;
  @ApiPropertyOptional({ description: 'Promoted only because the operator accepted the data loss (the exclusion code it overrides)' })
  dataLossAccepted?: string;
}

export class ReplicaEvidenceDto {
  @ApiProperty({ example: '10.0.0.2:6379' }) replica: string;
  @ApiPropertyOptional({ example: '10.0.0.1:6379' }) follows?: string;
  @ApiPropertyOptional() linkUp?: boolean;
  @ApiPropertyOptional({ description: 'master_last_io_seconds_ago' }) lastIoS?: number;
  @ApiPropertyOptional() error?: string;
  @ApiProperty({ description: 'This reading says the master is alive' }) saysAlive: boolean;
}

export class MasterEvidenceDto {
  @ApiProperty({ description: 'Alive by its own evidence: an automatic failover would be refused (master-alive)' }) alive: boolean;
  @ApiProperty() summary: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: "The leader's own probe of the master" }) leader: Record<string, unknown>;
  @ApiProperty({ type: [ReplicaEvidenceDto] }) replicas: ReplicaEvidenceDto[];
}

export class DryRunDto {
  @ApiProperty() cluster: string;
  @ApiProperty() epoch: number;
  @ApiPropertyOptional({ type: String, nullable: true }) target: string | null;
  @ApiProperty({ type: [CandidateDto], description: 'Best first: lowest priority number, then highest offset, then node id' }) candidates: CandidateDto[];
  @ApiProperty({ type: [CandidateDto] }) excluded: CandidateDto[];
  @ApiProperty() acceptDataLoss: boolean;
  @ApiPropertyOptional({
    type: MasterEvidenceDto,
    nullable: true,
    description: "The recorded master's own evidence, read now (null without a recorded master)",
  })
  evidence: MasterEvidenceDto | null;
}

export class MaintenanceDto {
  @ApiProperty({ type: String, format: 'date-time', description: 'No automatic failover until then' })
  @Type(() => Date)
  @IsDate({ message: 'must be an ISO 8601 date-time' })
  until: Date;

  @ApiPropertyOptional({ maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;

  @ApiPropertyOptional({ description: 'Refuse (409) unless the cluster is still at this epoch' })
  @IsOptional()
  @IsInt({ message: 'must be an integer' })
  @Min(0)
  expectedEpoch?: number;
}

export class ClusterDecisionDto {
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ enum: ['refused', 'started'] }) outcome: string;
  @ApiPropertyOptional({
    example: 'master-alive',
    description: 'For a refusal: master-alive, no-safe-candidate, maintenance, cooldown, backoff, cannot_decide, auto_failover_off',
  })
  code?: string;
  @ApiPropertyOptional() reason?: string;
  @ApiPropertyOptional({ format: 'uuid' }) failoverId?: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: "The master's own evidence, the excluded replicas" })
  evidence?: Record<string, unknown>;
}

export class ClusterFaultDto {
  @ApiProperty({ enum: ['master-reports-replica'] }) type: string;
  @ApiProperty({ format: 'date-time' }) since: string;
  @ApiProperty({ format: 'date-time' }) lastSeenAt: string;
  @ApiProperty({ example: '10.0.0.1:6379' }) node: string;
  @ApiProperty({ example: '10.0.0.2:6379' }) follows: string;
  @ApiProperty({ type: [String] }) otherMasters: string[];
  @ApiProperty() repair: string;
}

export class DecisionCheckDto {
  @ApiProperty({
    example: 'master-odown',
    description: 'master-odown, no-failover-running, auto-failover, maintenance, cooldown, backoff, can-decide, leader, safe-candidate',
  })
  name: string;
  @ApiProperty() passed: boolean;
  @ApiProperty({
    example: 'the master 10.0.0.1:6379 is up: 0 of 3 assigned agents see it down (3 voting); ODOWN needs 2 (quorum 2 and a strict majority of 3)',
  })
  detail: string;
}

export class DecisionNowDto {
  @ApiProperty({ description: 'Every check passes: the leader would now read the master’s own evidence and its candidates, then fail over' })
  wouldFailOver: boolean;
  @ApiProperty({ description: 'The first check that fails, or what would happen next' }) reason: string;
  @ApiProperty({
    type: [DecisionCheckDto],
    description:
      "Each guard of an automatic failover, evaluated from this controller's memory (detection's votes, the policy, leadership) and the agents' latest INFO readings in place of the leader's own probe; nothing is probed",
  })
  checks: DecisionCheckDto[];
}

export class DecisionViewDto {
  @ApiProperty() cluster: string;
  @ApiProperty({ description: 'Only the leader decides: a standby answers null and no faults' }) leader: boolean;
  @ApiPropertyOptional({ type: ClusterDecisionDto, nullable: true, description: 'The latest automatic decision while the master is down (null once it is up)' })
  decision: ClusterDecisionDto | null;
  @ApiProperty({ type: [ClusterFaultDto] }) faults: ClusterFaultDto[];
  @ApiProperty({ type: DecisionNowDto, description: 'Would an automatic failover start now? Live and side-effect free, on any replica' })
  now: DecisionNowDto;
}
