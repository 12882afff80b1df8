import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../auth/principal.js';
import { ApiErrors } from '../common/api-docs.js';
import { AuditService } from './audit.service.js';
import { EventDto, EventPageDto, EventQueryDto } from './dto/event.dto.js';

@ApiTags('events')
@Controller('events')
@RequireRole('viewer')
export class EventsController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({ summary: 'Query the event log by cluster, type and time; paginated oldest first' })
  @ApiOkResponse({ type: EventPageDto })
  @ApiErrors(400, 403)
  async list(@Query() query: EventQueryDto): Promise<EventPageDto> {
    const page = await this.audit.query({ ...query, limit: query.limit ?? 100 });
    return { items: page.items.map((e) => EventDto.from(e)), next: page.next };
  }
}
