import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { WebhookSummary } from '../../events-out/webhooks.service.js';
import { type ChannelAnswer, PUBLICATION_CHANNELS, type PublicationChannel } from '../publication-channels.js';
import type { Publication } from '../publication.service.js';

export class ChannelAnswerDto {
  @ApiProperty({
    enum: PUBLICATION_CHANNELS,
    description:
      'rest: GET /clusters/{name}/master; sentinel: SENTINEL get-master-addr-by-name; dns: the built-in responder; dns-update: the last RFC 2136 write to the external server',
  })
  channel: PublicationChannel;
  @ApiPropertyOptional({ example: 'orders.redis.example.', description: 'The DNS name asked (dns) or written (dns-update)' }) target?: string;
  @ApiProperty({
    type: String,
    nullable: true,
    example: '10.0.0.1:6379',
    description: 'host:port (rest, sentinel), an IP or, for a master known by host name, that name (dns, dns-update); null when the channel gives none',
  })
  answer: string | null;
  @ApiPropertyOptional({ description: 'TTL of the DNS answer, in seconds' }) ttl?: number;
  @ApiPropertyOptional({ description: 'REST: a failsafe answer (PostgreSQL unreachable)' }) stale?: boolean;
  @ApiPropertyOptional({ description: 'How the answer was compared, or why there is none' }) detail?: string;
  @ApiProperty({ description: 'The answer is the recorded master (DNS: the address and the SRV port)' }) agrees: boolean;

  static from(c: ChannelAnswer): ChannelAnswerDto {
    return Object.assign(new ChannelAnswerDto(), c);
  }
}

export class WebhookDeliveryBriefDto {
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ example: '42' }) eventId: string;
  @ApiProperty({ enum: ['delivered', 'retrying', 'failed'] }) status: string;
  @ApiProperty({ type: Number, nullable: true, example: 200, description: 'The receiver’s HTTP status; null when there was no answer' }) httpStatus:
    number | null;
}

export class WebhookPublicationDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({
    example: 'https://hooks.example.com',
    description: 'Scheme, host and port only (the path or query may hold a credential; admins see it in GET /webhooks)',
  })
  url: string;
  @ApiProperty({ type: WebhookDeliveryBriefDto, nullable: true, description: 'Its latest delivery attempt' }) lastDelivery: WebhookDeliveryBriefDto | null;
  @ApiProperty({ description: 'Its latest attempt did not deliver (retrying or given up)' }) failing: boolean;
  @ApiProperty({ description: 'Events waiting for a retry, among its latest 1,000 attempts' }) pending: number;
  @ApiProperty({ description: 'Events given up (no attempt left), among its latest 1,000 attempts' }) failed: number;

  static from(w: WebhookSummary): WebhookPublicationDto {
    return Object.assign(new WebhookPublicationDto(), {
      id: w.id,
      url: w.target,
      lastDelivery: w.lastDelivery
        ? { at: w.lastDelivery.at.toISOString(), eventId: w.lastDelivery.eventId, status: w.lastDelivery.outcome, httpStatus: w.lastDelivery.statusCode }
        : null,
      failing: w.lastDelivery !== null && w.lastDelivery.outcome !== 'delivered',
      pending: w.pending,
      failed: w.failed,
    });
  }
}

export class PublicationDto {
  @ApiProperty() cluster: string;
  @ApiProperty() epoch: number;
  @ApiProperty({ type: String, nullable: true, example: '10.0.0.1:6379', description: 'The master as recorded in the topology' }) recorded: string | null;
  @ApiProperty({ type: [ChannelAnswerDto], description: 'Each channel enabled on this controller, asked through the code that answers its clients' })
  channels: ChannelAnswerDto[];
  @ApiProperty({ type: String, nullable: true, description: 'The newest event this controller has delivered (SSE position)' }) lastEventId: string | null;
  @ApiProperty({ type: String, nullable: true, description: "The cluster's newest event up to lastEventId" }) lastClusterEventId: string | null;
  @ApiProperty({ type: [WebhookPublicationDto], description: 'Webhooks of this cluster and the global ones' }) webhooks: WebhookPublicationDto[];
  @ApiProperty({ description: 'Every channel agrees with the recorded master' }) agree: boolean;
  @ApiProperty({ type: [String], description: 'One line per channel that does not' }) disagreements: string[];

  static from(p: Publication): PublicationDto {
    return Object.assign(new PublicationDto(), {
      ...p,
      channels: p.channels.map((c) => ChannelAnswerDto.from(c)),
      webhooks: p.webhooks.map((w) => WebhookPublicationDto.from(w)),
    });
  }
}
