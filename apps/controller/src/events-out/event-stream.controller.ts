import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { RequireRole } from '../auth/principal.js';
import { ApiErrors, ErrorResponseDto } from '../common/api-docs.js';
import { VigilError } from '../common/errors.js';
import { EVENT_ID_PATTERN, EventStreamQueryDto } from './dto/event-stream.dto.js';
import { EVENT_CATALOGUE_MARKDOWN } from './event-catalogue.js';
import { EventStreamService } from './event-stream.service.js';

const FRAME_EXAMPLE =
  'id: 42\nevent: master.changed\ndata: {"id":"42","at":"2025-11-28T10:00:01.250Z","type":"master.changed","cluster":"orders","actor":"controller:ctl-a",' +
  '"data":{"failoverId":"…","epoch":3,"from":"10.0.1.12:6379","to":"10.0.1.13:6379"}}\n\n: keepalive\n\n';

@ApiTags('events')
@Controller('events')
@RequireRole('viewer')
export class EventStreamController {
  constructor(private readonly streams: EventStreamService) {}

  @Get('stream')
  @ApiOperation({
    summary: 'The event log as a live server-sent event stream, resumable with Last-Event-ID',
    description:
      'A `text/event-stream` response that stays open. Each event is one frame:\n\n' +
      '```\nid: <event id>\nevent: <type>\ndata: <the event as JSON, on one line>\n\n```\n\n' +
      'A comment line (`: keepalive`) comes every 15 s. Without `Last-Event-ID` the stream starts with the next event; with it ' +
      '(header, as EventSource sends on reconnecting, or the `lastEventId` parameter) the events after that id are replayed from the log first, in id order, ' +
      'then live ones follow, none twice and none skipped. `id:` is the position to resume from: the event’s own id, except for an event committed after a higher one ' +
      '(concurrent writers), which is sent under the higher id it follows (its own id is in `data`). ' +
      'Any controller replica serves the stream. A client that leaves more than 1 MiB unread is disconnected and should reconnect with `Last-Event-ID`; ' +
      'streams are ended when the replica shuts down.\n\n' +
      EVENT_CATALOGUE_MARKDOWN,
  })
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'Resume after this event id (the `id:` of the last frame received)',
    schema: { type: 'string' },
  })
  @ApiOkResponse({
    description: 'An open event stream (`text/event-stream`); see the description for the frames',
    content: { 'text/event-stream': { schema: { type: 'string' }, example: FRAME_EXAMPLE } },
  })
  @ApiServiceUnavailableResponse({ type: ErrorResponseDto, description: 'This replica is shutting down: reconnect (to another replica)' })
  @ApiErrors(400, 403)
  stream(@Query() query: EventStreamQueryDto, @Headers('last-event-id') lastEventIdHeader: string | undefined, @Res() reply: FastifyReply): void {
    let lastEventId = query.lastEventId;
    if (lastEventIdHeader !== undefined && lastEventIdHeader.trim() !== '') {
      lastEventId = lastEventIdHeader.trim();
      if (!EVENT_ID_PATTERN.test(lastEventId)) throw VigilError.validation([{ field: 'Last-Event-ID', reason: 'must be an event id' }]);
    }
    // The stream writes the raw response itself (never compressed: each event is flushed as it comes);
    // `open` refuses (503) before writing anything, so a refusal still goes through the error filter.
    this.streams.open(reply.raw, { cluster: query.cluster, types: query.types && new Set(query.types) }, lastEventId);
    reply.hijack();
  }
}
