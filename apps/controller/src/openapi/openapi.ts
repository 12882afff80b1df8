import { type INestApplication, RequestMethod } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { documentAccess } from '../common/access-docs.js';
import { ErrorResponseDto } from '../common/api-docs.js';

export const API_PREFIX = 'api/v1';

/** Every route lives under /api/v1 except the open operational ones. */
export function applyApiPrefix(app: INestApplication): void {
  app.setGlobalPrefix(API_PREFIX, {
    exclude: [
      { path: 'health/live', method: RequestMethod.GET },
      { path: 'health/ready', method: RequestMethod.GET },
      { path: 'metrics', method: RequestMethod.GET },
    ],
  });
}

/** Builds the OpenAPI document from the running app's routes and DTOs. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Vigil controller API')
    .setDescription(
      'High-availability control plane for Redis primary/replica groups. Every route needs a bearer token; ' +
        'roles are viewer < operator < admin, plus agent for probe agents (which admits only the agent routes and `GET /whoami`). ' +
        'Each operation states who may call it in `x-required-role` (the weakest role it accepts, or `any` for every valid token) and ' +
        '`x-vigil-roles` (every token role admitted), generated from the same decorators the server enforces: a missing, unknown, revoked or ' +
        'expired token gets 401, a role not listed 403, and an address past the failed-authentication limit 429. Errors share one shape (ErrorResponse).',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'API token (vgl_…) or the bootstrap VIGIL_ADMIN_TOKEN' }, 'bearer')
    .addSecurityRequirements('bearer')
    .build();
  const document = SwaggerModule.createDocument(app, config, { extraModels: [ErrorResponseDto], operationIdFactory: operationIdOf });
  documentAccess(app, document, operationIdOf);
  return document;
}

/** `Clusters_create` for `ClustersController.create`: also how `documentAccess` finds each operation's handler. */
function operationIdOf(controllerKey: string, methodKey: string): string {
  return `${controllerKey.replace(/Controller$/, '')}_${methodKey}`;
}
