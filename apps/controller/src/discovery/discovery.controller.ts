import { Controller, Get, Headers, HttpStatus, Param, Query, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiNotModifiedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { RequireRole } from '../auth/principal.js';
import { ApiErrors, ErrorResponseDto } from '../common/api-docs.js';
import { ErrorCode, VigilError } from '../common/errors.js';
import { clusterNameParam } from '../common/params.js';
import { DEFAULT_WATCH_MS, MasterDto, MasterQueryDto } from './dto/master.dto.js';
import { MasterDirectory, type MasterEntry, masterEtag } from './master-directory.service.js';

@ApiTags('clusters')
@Controller('clusters')
export class DiscoveryController {
  constructor(private readonly directory: MasterDirectory) {}

  @Get(':name/master')
  @RequireRole('viewer')
  @ApiOperation({
    summary: 'The current master (from memory, on any controller replica); `waitEpochAfter` turns it into a blocking watch',
    description:
      'Answered from the in-memory topology, which follows every committed change through PostgreSQL notifications. ' +
      'A replica that cannot vouch for its copy (its notification connection is down and its last reload is older than 2 s) answers 503 rather than a possibly stale master. ' +
      'The ETag changes exactly when the master or its epoch does; `If-None-Match` gives 304. ' +
      'With `waitEpochAfter=N` the request blocks until the master is recorded under an epoch above N, or `timeoutMs` passes (then it answers the current master, or 304 when `If-None-Match` still matches).',
  })
  @ApiParam({ name: 'name', description: 'Cluster name' })
  @ApiHeader({ name: 'If-None-Match', required: false, description: 'The ETag of a previous answer' })
  @ApiOkResponse({ type: MasterDto, headers: { ETag: { description: 'Epoch and address of the master', schema: { type: 'string' } } } })
  @ApiNotModifiedResponse({ description: 'The master is still the one of the given ETag' })
  @ApiServiceUnavailableResponse({
    type: ErrorResponseDto,
    description: 'No master is recorded yet, or this replica cannot vouch that its topology is current (retry, or ask another replica)',
  })
  @ApiErrors(400, 404)
  async master(
    @Param('name', clusterNameParam()) name: string,
    @Query() query: MasterQueryDto,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<MasterDto | undefined> {
    let master = this.current(name);
    if (query.waitEpochAfter !== undefined && master.epoch <= query.waitEpochAfter) {
      const aborted = new AbortController();
      const onClose = () => aborted.abort();
      req.once('close', onClose);
      try {
        await this.directory.waitEpochAfter(name, query.waitEpochAfter, query.timeoutMs ?? DEFAULT_WATCH_MS, aborted.signal);
      } finally {
        req.off('close', onClose);
      }
      master = this.current(name);
    }
    const etag = masterEtag(master);
    res.setHeader('ETag', etag);
    res.setHeader('Cache-Control', 'no-cache');
    if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((t) => t.trim() === etag || t.trim() === `W/${etag}`)) {
      res.status(HttpStatus.NOT_MODIFIED);
      return undefined;
    }
    return MasterDto.from(master);
  }

  private current(name: string): MasterEntry {
    if (!this.directory.isFresh()) {
      throw new VigilError(
        ErrorCode.UNAVAILABLE,
        'this controller cannot vouch that its topology is current (its notification connection to PostgreSQL is down); ask another replica or retry',
      );
    }
    const master = this.directory.get(name);
    if (master === undefined) throw VigilError.notFound(`cluster ${name}`);
    if (master === null) throw new VigilError(ErrorCode.UNAVAILABLE, `no master is recorded for cluster ${name} yet (roles are being discovered)`);
    return master;
  }
}
