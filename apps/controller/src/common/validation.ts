import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { ValidateIf } from 'class-validator';
import { type FieldIssue, VigilError } from './errors.js';

/** Flattens class-validator's nested errors into `field: reason` pairs with dotted/indexed paths. */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const error of errors) {
    const segment = /^\d+$/.test(error.property) ? `[${error.property}]` : error.property;
    const path = parent === '' ? segment : segment.startsWith('[') ? `${parent}${segment}` : `${parent}.${segment}`;
    for (const reason of Object.values(error.constraints ?? {})) {
      issues.push({ field: path, reason: reason.startsWith(`${error.property} `) ? reason.slice(error.property.length + 1) : reason });
    }
    if (error.children?.length) issues.push(...flattenValidationErrors(error.children, path));
  }
  return issues;
}

/** The global pipe: strict whitelist, transformation on, errors as `VigilError.validation`. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    exceptionFactory: (errors) => VigilError.validation(flattenValidationErrors(errors)),
  });
}

/**
 * Optional but not nullable (class-validator's `IsOptional` lets `null` through too): an absent field is
 * skipped, `null` is validated like any other value, so it is refused with the field's own reason
 * instead of reaching a NOT NULL column.
 */
export const IsOmittable = (): PropertyDecorator => ValidateIf((_object, value) => value !== undefined);
