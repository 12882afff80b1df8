import { ErrorCode, type FieldIssue, VigilError } from '../common/errors.js';

/** Why an operator's failover or switchover was refused, as recorded in `operator.refused`. */
export type OperatorRefusalCode = 'forbidden' | 'maintenance' | 'running' | 'no-safe-candidate' | 'conflict';

/**
 * A refusal of an operator action, by the authority (role, maintenance) or by the engine (a failover
 * running, no safe candidate): a `VigilError` for REST, with the code the Sentinel endpoint words it by.
 */
export class OperatorRefusedError extends VigilError {
  constructor(
    readonly refusal: OperatorRefusalCode,
    code: ErrorCode,
    message: string,
    details?: FieldIssue[],
    /** Set for `maintenance`: the end of the maintenance window. */
    readonly maintenanceUntil?: Date,
  ) {
    super(code, message, details);
  }
}
