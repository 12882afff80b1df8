import { Controller, Get, Headers, Param, Query, Res } from '@nestjs/common';
import { ApiHeader, ApiNotModifiedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { RequireRole } from '../auth/principal.js';
import { ApiErrors, ErrorResponseDto } from '../common/api-docs.js';
import { clusterNameParam } from '../common/params.js';
import { MasterDto, MasterQueryDto } from './dto/master.dto.js';
import { MasterLookup } from './master-lookup.service.js';

@ApiTags('clusters')
@Controller('clusters')
export class DiscoveryController {
  constructor(private readonly lookup: MasterLookup) {}

  @Get(':name/master')
  @RequireRole('viewer')
  @ApiOperation({
    summary: 'The current master (from memory, on any controller replica); `waitEpochAfter` turns it into a blocking watch',
    description:
      'Answered from the in-memory topology, which follows every committed change through PostgreSQL notifications. ' +
      'A replica that cannot vouch for its copy (its notification connection is down and its last reload is older than 2 s) answers 503 rather than a possibly stale master, ' +
      'except in failsafe: when PostgreSQL itself is unreachable (no failover can start then), the last committed master is still given, with `stale: true` and a `Warning: 110` header, ' +
      'as long as the agents see it up, answering ROLE master, and no other node claiming master. ' +
      'The ETag changes exactly when the master or its epoch does; `If-None-Match` gives 304. ' +
      'With `waitEpochAfter=N` the request blocks until the master is recorded under an epoch above N, or `timeoutMs` passes (then it answers the current master, or 304 when `If-None-Match` still matches).',
  })
  @ApiParam({ name: 'name', description: 'Cluster name' })
  @ApiHeader({ name: 'If-None-Match', required: false, description: 'The ETag of a previous answer' })
  @ApiOkResponse({
    type: MasterDto,
    headers: {
      ETag: { description: 'Epoch and address of the master (a failsafe answer has its own)', schema: { type: 'string' } },
      Warning: { description: 'On a failsafe answer only: `110 - "Response is Stale: PostgreSQL is unreachable; …"`', schema: { type: 'string' } },
    },
  })
  @ApiNotModifiedResponse({ description: 'The master is still the one of the given ETag' })
  @ApiServiceUnavailableResponse({
    type: ErrorResponseDto,
    description:
      'No master is recorded yet, or this replica cannot vouch that its topology is current and, PostgreSQL being unreachable, the agents do not vouch for the last committed master (retry, or ask another replica)',
  })
  @ApiErrors(400, 404)
  async master(
    @Param('name', clusterNameParam()) name: string,
    @Query() query: MasterQueryDto,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<MasterDto | undefined> {
    const closed = new AbortController();
    const onClose = () => closed.abort();
    reply.raw.once('close', onClose);
    try {
      const answer = await this.lookup.answer(name, query, ifNoneMatch, closed.signal);
      void reply.header('ETag', answer.etag).header('Cache-Control', 'no-cache');
      if (answer.warning !== undefined) void reply.header('Warning', answer.warning);
      void reply.code(answer.status);
      return answer.body;
    } finally {
      reply.raw.off('close', onClose);
    }
  }
}
