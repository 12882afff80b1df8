import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { CLUSTER_NAME_PATTERN } from '../../../../../libs/contracts/src/index.js';
import type { EventEntity } from '../event.entity.js';

export class EventQueryDto {
  @ApiPropertyOptional({ description: 'Cluster name', example: 'orders' })
  @IsOptional()
  @Matches(CLUSTER_NAME_PATTERN, { message: 'must be a cluster name (DNS label)' })
  cluster?: string;

  @ApiPropertyOptional({ description: 'Event type', example: 'cluster.created' })
  @IsOptional()
  @Matches(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/, { message: 'must be an event type such as node.sdown' })
  type?: string;

  @ApiPropertyOptional({ description: 'Only events at or after this instant (ISO 8601)', format: 'date-time' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'must be an ISO 8601 date-time' })
  since?: Date;

  @ApiPropertyOptional({ description: 'Only events before this instant (ISO 8601)', format: 'date-time' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'must be an ISO 8601 date-time' })
  until?: Date;

  @ApiPropertyOptional({ description: 'Cursor: the `next` value of the previous page' })
  @IsOptional()
  @Matches(/^\d{1,18}$/, { message: 'must be a cursor returned as next' })
  after?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'must be an integer' })
  @Min(1)
  @Max(500)
  limit?: number;
}

export class EventDto {
  @ApiProperty({ description: 'Monotonic id (string: it is a 64-bit integer)', example: '42' }) id: string;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ example: 'cluster.created', description: 'Dotted event type: node.sdown, failover.started, cluster.updated, …' }) type: string;
  @ApiPropertyOptional({ type: String, nullable: true, example: 'orders' }) cluster: string | null;
  @ApiProperty({ example: 'token:deploy-bot', description: 'Who caused it: token:<name>, agent:<name> or controller:<name>' }) actor: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Type-specific evidence and details' }) data: Record<string, unknown>;

  static from(row: EventEntity): EventDto {
    return Object.assign(new EventDto(), { id: row.id, at: row.at.toISOString(), type: row.type, cluster: row.clusterName, actor: row.actor, data: row.data });
  }
}

export class EventPageDto {
  @ApiProperty({ type: [EventDto] }) items: EventDto[];
  @ApiPropertyOptional({ type: String, nullable: true, description: 'Pass as `after` for the next page; null at the end' }) next: string | null;
}
