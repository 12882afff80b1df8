import type { FastifyInstance, FastifyRequest } from 'fastify';
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

/** `application/json` and `application/*+json`, with or without parameters. */
const JSON_TYPES = /^application\/(?:[^;\s]*\+)?json(?:\s*;|$)/i;

export interface JsonBodyOptions {
  /** Refuse (400, field `body`) a body nested deeper than this. */
  maxDepth: number;
  /** Requests whose body is not walked for depth (routes with their own, non-recursive validation). */
  skipDepthCheck: (request: FastifyRequest) => boolean;
}

/**
 * The controller's one body parser, replacing Fastify's: JSON (objects and arrays only, as Express'
 * `strict` parser read it) with the depth check; an empty JSON body is `{}`. Bodies of any other type
 * are read (within the size limit) and dropped, so the route's validation answers 400 for the missing
 * body instead of Fastify's 415. The size limit is Fastify's `bodyLimit` (per route where set): 413.
 */
export function installJsonBodyParser(fastify: FastifyInstance, options: JsonBodyOptions): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(JSON_TYPES, { parseAs: 'string' }, (request, text, done) => {
    // A leading byte order mark (some Windows clients send one) is not part of the JSON text.
    const body = (text as string).charCodeAt(0) === 0xfeff ? (text as string).slice(1) : (text as string);
    let value: unknown;
    const start = firstNonSpace(body);
    if (start === -1) {
      done(null, {});
      return;
    }
    const first = body[start];
    if (first !== '{' && first !== '[') {
      done(VigilError.validation([{ field: 'body', reason: 'must be a JSON object or array' }]), undefined);
      return;
    }
    try {
      value = JSON.parse(body);
    } catch (err) {
      done(VigilError.validation([{ field: 'body', reason: `is not valid JSON: ${(err as Error).message}` }]), undefined);
      return;
    }
    if (!options.skipDepthCheck(request) && nestsDeeperThan(value, options.maxDepth)) {
      done(VigilError.validation([{ field: 'body', reason: `must not nest objects or arrays deeper than ${options.maxDepth} levels` }]), undefined);
      return;
    }
    done(null, value);
  });
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) => done(null, undefined));
}

function firstNonSpace(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return i;
  }
  return -1;
}
