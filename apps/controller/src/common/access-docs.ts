import type { INestApplication } from '@nestjs/common';
import { ModulesContainer, Reflector } from '@nestjs/core';
import type { OpenAPIObject } from '@nestjs/swagger';
import { TOKEN_ROLES } from '../../../../libs/contracts/src/index.js';
import { type RouteAccess, rolesAdmitted, routeAccess } from '../auth/route-access.js';
import { ERROR_DESCRIPTIONS } from './api-docs.js';

/** The operation extension naming the weakest role a route accepts (`any`: every valid token; `public`: no token). */
export const REQUIRED_ROLE_EXTENSION = 'x-required-role';
/** The operation extension listing every token role the guard lets through. */
export const ROLES_EXTENSION = 'x-vigil-roles';

type OperationObject = NonNullable<OpenAPIObject['paths'][string]['get']>;
type ResponseObject = OperationObject['responses'][string];

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/**
 * Writes who may call each operation into the document, from the metadata `AuthGuard` enforces
 * (`routeAccess`), so the two cannot drift: `x-required-role`, `x-vigil-roles`, a sentence in the
 * description, and the 401 / 403 / 429 answers the guard can give. Operations are matched to their
 * handlers by operation id; one that matches none is an error (its access would be undocumented).
 */
export function documentAccess(app: INestApplication, document: OpenAPIObject, operationIdOf: (controllerKey: string, methodKey: string) => string): void {
  const reflector = new Reflector();
  const accessById = new Map<string, RouteAccess>();
  for (const module of app.get(ModulesContainer, { strict: false }).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: never[]) => unknown) | null;
      if (!controller) continue;
      const prototype = controller.prototype as Record<string, unknown>;
      for (const key of Object.getOwnPropertyNames(prototype)) {
        const handler = prototype[key];
        if (key === 'constructor' || typeof handler !== 'function') continue;
        accessById.set(operationIdOf(controller.name, key), routeAccess(reflector, handler, controller));
      }
    }
  }
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const access = operation.operationId === undefined ? undefined : accessById.get(operation.operationId);
      if (!access) throw new Error(`${method.toUpperCase()} ${path}: no handler found for operation ${operation.operationId ?? '(no id)'}`);
      annotate(operation, access);
    }
  }
}

function annotate(operation: OperationObject, access: RouteAccess): void {
  const roles = rolesAdmitted(access);
  const extensions = operation as OperationObject & Record<string, unknown>;
  extensions[REQUIRED_ROLE_EXTENSION] = access.kind === 'role' ? access.role : access.kind;
  extensions[ROLES_EXTENSION] = roles;
  const sentence = `**Access:** ${accessSentence(access, roles)}`;
  operation.description = operation.description ? `${operation.description}\n\n${sentence}` : sentence;
  if (access.kind === 'public') {
    operation.security = [];
    return;
  }
  const statuses = [401, 429, ...(roles.length < TOKEN_ROLES.length ? [403] : [])];
  for (const status of statuses) operation.responses[status] ??= errorResponse(status);
  operation.responses = Object.fromEntries(Object.entries(operation.responses).sort(([a], [b]) => rank(a) - rank(b)));
}

function accessSentence(access: RouteAccess, roles: string[]): string {
  if (access.kind === 'public') return 'open, no token needed.';
  if (access.kind === 'any') return 'any valid token, whatever its role.';
  const names = roles.map((r) => `\`${r}\``);
  const list = names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]!}`;
  return `a token with role ${list}; any other role gets 403.`;
}

function errorResponse(status: number): ResponseObject {
  return {
    description: ERROR_DESCRIPTIONS[status] ?? 'Error',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponseDto' } } },
  };
}

/** Numeric statuses in order, then anything else (`default`). */
function rank(status: string): number {
  return /^\d+$/.test(status) ? Number(status) : 1000;
}
