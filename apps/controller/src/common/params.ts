import { type PipeTransform, ParseUUIDPipe } from '@nestjs/common';
import { AGENT_NAME_PATTERN, CLUSTER_NAME_PATTERN } from '../../../../libs/contracts/src/index.js';
import { VigilError } from './errors.js';

/** A path segment that must match `pattern`; a mismatch is a 400 naming `field`. */
function patternParam(field: string, pattern: RegExp, reason: string): PipeTransform<string, string> {
  return {
    transform(value: string): string {
      if (!pattern.test(value)) throw VigilError.validation([{ field, reason }]);
      return value;
    },
  };
}

/** `:name` as a cluster name (DNS label). */
export const clusterNameParam = () => patternParam('name', CLUSTER_NAME_PATTERN, 'must be a cluster name (DNS label)');

/** `:name` as an agent name. */
export const agentNameParam = () => patternParam('name', AGENT_NAME_PATTERN, 'must be an agent name');

/** A UUID path segment; `field` names it in the 400 answer. */
export function uuidParam(field: string): ParseUUIDPipe {
  return new ParseUUIDPipe({ exceptionFactory: () => VigilError.validation([{ field, reason: 'must be a UUID' }]) });
}
