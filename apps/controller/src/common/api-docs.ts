import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';
import { ErrorCode } from './errors.js';

export class FieldIssueDto {
  @ApiProperty({ example: 'nodes[1].port', description: 'Path of the offending field' })
  field: string;

  @ApiProperty({ example: 'must not be greater than 65535' })
  reason: string;
}

/** Shape of every error answer. */
export class ErrorResponseDto {
  @ApiProperty({ example: 400 })
  statusCode: number;

  @ApiProperty({ enum: ErrorCode, enumName: 'ErrorCode', example: ErrorCode.VALIDATION })
  error: ErrorCode;

  @ApiProperty({ example: 'nodes[1].port: must not be greater than 65535' })
  message: string;

  @ApiPropertyOptional({ type: [FieldIssueDto] })
  details?: FieldIssueDto[];

  @ApiPropertyOptional({ description: 'Present on 500 only; the same id is in the server log', format: 'uuid' })
  errorId?: string;
}

export const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input: `details` names each field and the reason',
  401: 'Missing, malformed, unknown, revoked or expired bearer token',
  403: 'The token’s role is too weak for this action',
  404: 'Not found',
  409: 'Conflicts with existing state (duplicate name, address in use, bound agent name)',
  413: 'Request body too large',
  429: 'Too many failed authentications from this address: try again after `Retry-After` seconds',
  500: 'Unexpected server error; `errorId` is in the log',
};

/** Documents the error answers a route can give (the bearer requirement is document-wide). */
export function ApiErrors(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...[401, 429, 500, ...statuses].map((status) => ApiResponse({ status, description: ERROR_DESCRIPTIONS[status] ?? 'Error', type: ErrorResponseDto })),
  );
}
