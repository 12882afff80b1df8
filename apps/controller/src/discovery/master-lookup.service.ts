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
  /** `body` as JSON, when it was encoded once for its recorded master (not for a failsafe answer). */
  json?: string;
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
  /** A recorded master's ETag and answer, made once: a new entry is recorded whenever the master or its epoch moves. */
  private readonly encoded = new WeakMap<MasterEntry, { etag: string; body: MasterDto; json: string }>();

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
    const current = this.current(name);
    if (query.waitEpochAfter !== undefined && current.master.epoch <= query.waitEpochAfter) {
      await this.directory.waitEpochAfter(name, query.waitEpochAfter, query.timeoutMs ?? DEFAULT_WATCH_MS, closed);
      return this.answerNow(name, ifNoneMatch);
    }
    return this.answerFor(current, ifNoneMatch);
  }

  /** The answer as it stands (no watch): what `answer` gives without `waitEpochAfter`, without a promise. */
  answerNow(name: string, ifNoneMatch: string | undefined): MasterAnswer {
    return this.answerFor(this.current(name), ifNoneMatch);
  }

  private answerFor(current: { master: MasterEntry; stale: boolean }, ifNoneMatch: string | undefined): MasterAnswer {
    const { master, stale } = current;
    if (stale) {
      // A stale answer is another representation: a client holding the normal one learns of the failsafe.
      const etag = `${masterEtag(master).slice(0, -1)}-stale"`;
      if (matches(ifNoneMatch, etag)) return { status: 304, etag, warning: STALE_WARNING };
      const body = MasterDto.from(master, true);
      return { status: 200, etag, body, warning: STALE_WARNING };
    }
    let encoded = this.encoded.get(master);
    if (encoded === undefined) {
      const body = MasterDto.from(master, false);
      encoded = { etag: masterEtag(master), body, json: JSON.stringify(body) };
      this.encoded.set(master, encoded);
    }
    if (matches(ifNoneMatch, encoded.etag)) return { status: 304, etag: encoded.etag };
    return { status: 200, etag: encoded.etag, body: encoded.body, json: encoded.json };
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

/** Whether an `If-None-Match` header names `etag` (strong or weak). */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  return ifNoneMatch !== undefined && ifNoneMatch.split(',').some((t) => t.trim() === etag || t.trim() === `W/${etag}`);
}
