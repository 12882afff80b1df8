import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsInt, IsOptional, IsString, IsUrl, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { CLUSTER_NAME_PATTERN } from '../../../../../libs/contracts/src/index.js';
import { DELIVERY_OUTCOMES, type DeliveryOutcome, type WebhookDeliveryEntity } from '../webhook-delivery.entity.js';
import type { WebhookEntity } from '../webhook.entity.js';
import { EVENT_ID_PATTERN, EVENT_TYPE_MESSAGE, EVENT_TYPE_PATTERN } from './event-stream.dto.js';

export class CreateWebhookDto {
  @ApiProperty({ example: 'https://hooks.example.com/vigil', maxLength: 2048, description: 'http or https URL that receives the POSTs' })
  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_tld: false, disallow_auth: true },
    { message: 'must be an http or https URL without user:password' },
  )
  @MaxLength(2048)
  url: string;

  @ApiPropertyOptional({ type: String, nullable: true, example: 'orders', description: 'Only this cluster’s events; null or absent: every event' })
  @IsOptional()
  @Matches(CLUSTER_NAME_PATTERN, { message: 'must be a cluster name (DNS label)' })
  cluster?: string | null;

  @ApiPropertyOptional({ type: [String], example: ['master.changed', 'failover.failed'], description: 'Event types to receive; absent: every type' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1, { message: 'must name at least one event type (leave it out for every type)' })
  @ArrayMaxSize(50)
  @ArrayUnique({ message: 'must not repeat a type' })
  @Matches(EVENT_TYPE_PATTERN, { each: true, message: `each ${EVENT_TYPE_MESSAGE}` })
  types?: string[];

  @ApiPropertyOptional({ minLength: 16, maxLength: 256, writeOnly: true, description: 'Signing secret; generated when absent. Returned once, in this answer' })
  @IsOptional()
  @IsString()
  @MinLength(16)
  @MaxLength(256)
  secret?: string;
}

export class WebhookDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'https://hooks.example.com/vigil' }) url: string;
  @ApiPropertyOptional({ type: String, nullable: true, example: 'orders', description: 'Null: every cluster' }) cluster: string | null;
  @ApiPropertyOptional({ type: [String], nullable: true, description: 'Null: every type' }) types: string[] | null;
  @ApiProperty({ example: 'token:deploy-bot' }) createdBy: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;

  static from(hook: WebhookEntity): WebhookDto {
    return Object.assign(new WebhookDto(), WebhookDto.fields(hook));
  }

  protected static fields(hook: WebhookEntity): WebhookDto {
    return {
      id: hook.id,
      url: hook.url,
      cluster: hook.cluster?.name ?? null,
      types: hook.types,
      createdBy: hook.createdBy,
      createdAt: hook.createdAt.toISOString(),
    };
  }
}

export class CreatedWebhookDto extends WebhookDto {
  @ApiProperty({ example: 'whsec_…', description: 'The signing secret: shown this once, never again' }) secret: string;

  static withSecret(hook: WebhookEntity, secret: string): CreatedWebhookDto {
    return Object.assign(new CreatedWebhookDto(), WebhookDto.fields(hook), { secret });
  }
}

export class WebhookListDto {
  @ApiProperty({ type: [WebhookDto] }) items: WebhookDto[];
}

export class DeliveryQueryDto {
  @ApiPropertyOptional({ description: 'Cursor: the `next` value of the previous page' })
  @IsOptional()
  @Matches(EVENT_ID_PATTERN, { message: 'must be a cursor returned as next' })
  before?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'must be an integer' })
  @Min(1)
  @Max(500)
  limit?: number;
}

export class WebhookDeliveryDto {
  @ApiProperty({ example: '17' }) id: string;
  @ApiProperty({ example: '42', description: 'The event delivered' }) eventId: string;
  @ApiProperty({ format: 'uuid', description: 'X-Vigil-Delivery: the same for every attempt of one event' }) deliveryId: string;
  @ApiProperty({ example: 1, description: '1 for the first attempt' }) attempt: number;
  @ApiPropertyOptional({ type: Number, nullable: true, example: 500, description: 'The receiver’s HTTP status; null when there was no answer' }) statusCode:
    number | null;
  @ApiPropertyOptional({ type: String, nullable: true, example: 'ECONNREFUSED', description: 'Why there was no answer' }) error: string | null;
  @ApiProperty({ example: 12 }) durationMs: number;
  @ApiProperty({ format: 'date-time', description: 'When the attempt started' }) at: string;
  @ApiProperty({ enum: DELIVERY_OUTCOMES, description: 'delivered (2xx), retrying (another attempt follows), failed (no attempt left)' })
  outcome: DeliveryOutcome;

  static from(d: WebhookDeliveryEntity): WebhookDeliveryDto {
    return Object.assign(new WebhookDeliveryDto(), {
      id: d.id,
      eventId: d.eventId,
      deliveryId: d.deliveryId,
      attempt: d.attempt,
      statusCode: d.statusCode,
      error: d.error,
      durationMs: d.durationMs,
      at: d.at.toISOString(),
      outcome: d.outcome,
    });
  }
}

export class WebhookDeliveryPageDto {
  @ApiProperty({ type: [WebhookDeliveryDto], description: 'Newest first' }) items: WebhookDeliveryDto[];
  @ApiPropertyOptional({ type: String, nullable: true, description: 'Pass as `before` for the next (older) page; null at the end' }) next: string | null;
}
