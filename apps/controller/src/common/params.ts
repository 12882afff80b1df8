import { type PipeTransform, Injectable, ParseUUIDPipe } from '@nestjs/common';
import { VigilError } from './errors.js';

import { CLUSTER_NAME_PATTERN } from '../../../../libs/contracts/src/index.js';

/** Validates a `:name` path segment as a cluster name (DNS label). */
@Injectable()
export class ClusterNamePipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!CLUSTER_NAME_PATTERN.test(value)) throw VigilError.validation([{ field: 'name', reason: 'must be a cluster name (DNS label)' }]);
    return value;
  }
}

/** A UUID path segment; `field` names it in the 400 answer. */
export function uuidParam(field: string): ParseUUIDPipe {
  return new ParseUUIDPipe({ exceptionFactory: () => VigilError.validation([{ field, reason: 'must be a UUID' }]) });
}
