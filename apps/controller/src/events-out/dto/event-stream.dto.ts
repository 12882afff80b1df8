import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsOptional, Matches } from 'class-validator';
import { CLUSTER_NAME_PATTERN } from '../../../../../libs/contracts/src/index.js';

/** A dotted event type, as the `events` table's check allows. */
export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
export const EVENT_TYPE_MESSAGE = 'must be an event type such as node.sdown';
/** An event id (a positive 64-bit integer). */
export const EVENT_ID_PATTERN = /^\d{1,18}$/;

/** `a,b` (or a repeated parameter) as a list. */
const commaList = ({ value }: { value: unknown }) =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
    : value;

export class EventStreamQueryDto {
  @ApiPropertyOptional({ description: 'Only this cluster’s events', example: 'orders' })
  @IsOptional()
  @Matches(CLUSTER_NAME_PATTERN, { message: 'must be a cluster name (DNS label)' })
  cluster?: string;

  @ApiPropertyOptional({ type: String, description: 'Comma-separated event types to receive (default: all)', example: 'master.changed,failover.started' })
  @IsOptional()
  @Transform(commaList)
  @IsArray({ message: 'must be a comma-separated list of event types' })
  @ArrayMinSize(1, { message: 'must name at least one event type' })
  @ArrayMaxSize(50)
  @Matches(EVENT_TYPE_PATTERN, { each: true, message: `each ${EVENT_TYPE_MESSAGE}` })
  types?: string[];

  @ApiPropertyOptional({ description: 'Resume after this event id (the `Last-Event-ID` header wins when both are given)', example: '42' })
  @IsOptional()
  @Matches(EVENT_ID_PATTERN, { message: 'must be an event id' })
  lastEventId?: string;
}
