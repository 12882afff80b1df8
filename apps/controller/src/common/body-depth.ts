import type { NextFunction, Request, Response } from 'express';
import { vigilErrorBody } from './http-exception.filter.js';
import { VigilError } from './errors.js';

/**
 * Whether a parsed JSON value nests objects or arrays deeper than `max` levels. Iterative: the point
 * is to refuse, before anything recursive (class-transformer, the validators) walks the body, a value
 * deep enough to overflow the stack.
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== 'object') continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** Answers 400 (field `body`) for a JSON body nested deeper than `max` levels. */
export function bodyDepthLimit(max: number) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.body !== undefined && nestsDeeperThan(req.body, max)) {
      const error = VigilError.validation([{ field: 'body', reason: `must not nest objects or arrays deeper than ${max} levels` }]);
      res.status(400).json(vigilErrorBody(error));
      return;
    }
    next();
  };
}
