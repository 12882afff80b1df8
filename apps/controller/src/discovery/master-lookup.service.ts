import { Injectable } from '@nestjs/common';
import { ErrorCode, VigilError } from '../common/errors.js';
import { DEFAULT_WATCH_MS, MasterDto } from './dto/master.dto.js';
import { MasterDirectory, type MasterEntry, masterEtag } from './master-directory.service.js';

export interface MasterAnswer {
  status: 200 | 304;
  etag: string;
  body?: MasterDto;
}

/**
 * `GET /clusters/{name}/master`, whichever way the request arrives (the Nest route or the fast route in
 * front of it): the current master from memory, a watch that waits for a higher epoch, and the ETag.
 */
@Injectable()
export class MasterLookup {
  constructor(private readonly directory: MasterDirectory) {}

  async answer(
    name: string,
    query: { waitEpochAfter?: number; timeoutMs?: number },
    ifNoneMatch: string | undefined,
    closed?: AbortSignal,
  ): Promise<MasterAnswer> {
    let master = this.current(name);
    if (query.waitEpochAfter !== undefined && master.epoch <= query.waitEpochAfter) {
      await this.directory.waitEpochAfter(name, query.waitEpochAfter, query.timeoutMs ?? DEFAULT_WATCH_MS, closed);
      master = this.current(name);
    }
    const etag = masterEtag(master);
    if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((t) => t.trim() === etag || t.trim() === `W/${etag}`)) return { status: 304, etag };
    return { status: 200, etag, body: MasterDto.from(master) };
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
