import { Injectable } from '@nestjs/common';
import { ErrorCode, VigilError } from '../common/errors.js';
import { DEFAULT_WATCH_MS, MasterDto } from './dto/master.dto.js';
import { FailsafeService } from './failsafe.service.js';
import { MasterDirectory, type MasterEntry, masterEtag } from './master-directory.service.js';

/** The `Warning` header of a failsafe answer (RFC 7234 §5.5: 110 "Response is Stale"). */
export const STALE_WARNING = '110 - "Response is Stale: PostgreSQL is unreachable; the last committed master, still seen up and master by the agents"';

export interface MasterAnswer {
  status: 200 | 304;
  etag: string;
  body?: MasterDto;
  /** Set on a failsafe answer (the master is the last committed one, PostgreSQL being unreachable). */
  warning?: string;
}

/**
 * `GET /clusters/{name}/master`, whichever way the request arrives (the Nest route or the fast route in
 * front of it): the current master from memory, a watch that waits for a higher epoch, and the ETag.
 * While PostgreSQL is unreachable, the failsafe decides whether the last committed master is still given
 * (marked stale, with a `Warning`) or 503.
 */
@Injectable()
export class MasterLookup {
  constructor(
    private readonly directory: MasterDirectory,
    private readonly failsafe: FailsafeService,
  ) {}

  async answer(
    name: string,
    query: { waitEpochAfter?: number; timeoutMs?: number },
    ifNoneMatch: string | undefined,
    closed?: AbortSignal,
  ): Promise<MasterAnswer> {
    let current = this.current(name);
    if (query.waitEpochAfter !== undefined && current.master.epoch <= query.waitEpochAfter) {
      await this.directory.waitEpochAfter(name, query.waitEpochAfter, query.timeoutMs ?? DEFAULT_WATCH_MS, closed);
      current = this.current(name);
    }
    const { master, stale } = current;
    // A stale answer is another representation: a client holding the normal one learns of the failsafe.
    const etag = stale ? `${masterEtag(master).slice(0, -1)}-stale"` : masterEtag(master);
    const warning = stale ? { warning: STALE_WARNING } : {};
    if (ifNoneMatch !== undefined && ifNoneMatch.split(',').some((t) => t.trim() === etag || t.trim() === `W/${etag}`))
      return { status: 304, etag, ...warning };
    return { status: 200, etag, body: MasterDto.from(master, stale), ...warning };
  }

  private current(name: string): { master: MasterEntry; stale: boolean } {
    const p = this.failsafe.lookup(name);
    switch (p.kind) {
      case 'master':
        return p;
      case 'unknown-cluster':
        throw VigilError.notFound(`cluster ${name}`);
      case 'no-master':
        throw new VigilError(ErrorCode.UNAVAILABLE, `no master is recorded for cluster ${name} yet (roles are being discovered)`);
      case 'cannot-vouch':
        throw new VigilError(ErrorCode.UNAVAILABLE, p.reason);
    }
  }
}
