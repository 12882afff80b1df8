import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal, RequireRole } from '../auth/principal.js';
import { ApiErrors } from '../common/api-docs.js';
import { uuidParam } from '../common/params.js';
import { WEBHOOK_ATTEMPTS } from '../jobs/queues.js';
import {
  CreatedWebhookDto,
  CreateWebhookDto,
  DeliveryQueryDto,
  WebhookDeliveryDto,
  WebhookDeliveryPageDto,
  WebhookDto,
  WebhookListDto,
} from './dto/webhook.dto.js';
import { EVENT_CATALOGUE_MARKDOWN } from './event-catalogue.js';
import { WEBHOOK_TIMEOUT_MS } from './webhook-sender.service.js';
import { WebhooksService } from './webhooks.service.js';

const DELIVERY_DESCRIPTION =
  'Every matching event committed after the webhook was created is POSTed to its URL (earlier history is not sent). The body is the event as JSON, ' +
  'as `GET /events` lists it. Headers:\n\n' +
  '- `Content-Type: application/json`\n' +
  '- `X-Vigil-Event`: the event type\n' +
  '- `X-Vigil-Event-Id`: the event id (unique and increasing)\n' +
  '- `X-Vigil-Delivery`: a UUID, the same for every attempt of one event to one webhook (deduplicate on it)\n' +
  '- `X-Vigil-Timestamp`: Unix seconds when the attempt was signed\n' +
  '- `X-Vigil-Signature`: `sha256=` and the hex HMAC-SHA256, keyed with the webhook secret, of `<X-Vigil-Timestamp>.<raw body>`\n\n' +
  'To verify: compute HMAC-SHA256(secret, timestamp + "." + the raw request body, exactly as received), hex-encode it, compare it with the part after `sha256=` ' +
  'in constant time, and refuse timestamps more than a few minutes from your clock (replays). ' +
  `A 2xx answer within ${WEBHOOK_TIMEOUT_MS / 1000} s is a delivery; anything else (another status, a redirect, no answer) is retried with exponential backoff ` +
  `(${WEBHOOK_ATTEMPTS} attempts; the first retry after WEBHOOK_RETRY_BASE_MS, default 1 s, each next one twice as late). ` +
  'Deliveries are at least once and not ordered: order by the event id. Any controller replica may deliver; the leader decides what to send from a cursor kept ' +
  'in PostgreSQL, so a leader change loses and repeats nothing.\n\n' +
  EVENT_CATALOGUE_MARKDOWN;

@ApiTags('webhooks')
@Controller('webhooks')
@RequireRole('admin')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiOperation({
    summary: 'Create a webhook: signed POSTs of new events, for one cluster or all; the secret is returned once',
    description: DELIVERY_DESCRIPTION,
  })
  @ApiCreatedResponse({ type: CreatedWebhookDto })
  @ApiErrors(400, 403, 409)
  async create(@Body() body: CreateWebhookDto, @CurrentPrincipal() principal: Principal): Promise<CreatedWebhookDto> {
    const { webhook, secret } = await this.webhooks.create(body, principal);
    return CreatedWebhookDto.withSecret(webhook, secret);
  }

  @Get()
  @ApiOperation({ summary: 'List webhooks (secrets are never returned)' })
  @ApiOkResponse({ type: WebhookListDto })
  @ApiErrors(403)
  async list(): Promise<WebhookListDto> {
    return { items: (await this.webhooks.list()).map((w) => WebhookDto.from(w)) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One webhook' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: WebhookDto })
  @ApiErrors(400, 403, 404)
  async get(@Param('id', uuidParam('id')) id: string): Promise<WebhookDto> {
    return WebhookDto.from(await this.webhooks.get(id));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a webhook and its delivery log; attempts not yet made are dropped' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(400, 403, 404)
  async remove(@Param('id', uuidParam('id')) id: string, @CurrentPrincipal() principal: Principal): Promise<void> {
    await this.webhooks.remove(id, principal);
  }

  @Get(':id/deliveries')
  @ApiOperation({ summary: 'A webhook’s delivery log: one entry per attempt, newest first' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: WebhookDeliveryPageDto })
  @ApiErrors(400, 403, 404)
  async deliveries(@Param('id', uuidParam('id')) id: string, @Query() query: DeliveryQueryDto): Promise<WebhookDeliveryPageDto> {
    const page = await this.webhooks.deliveries(id, query.before, query.limit ?? 100);
    return { items: page.items.map((d) => WebhookDeliveryDto.from(d)), next: page.next };
  }
}
