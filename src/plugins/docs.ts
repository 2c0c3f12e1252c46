import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { completeApiDescription } from './api-description.js';
import type { RouteSchemas } from './api-error-answers.js';
import { UNTHROTTLED_PATHS } from './security.js';

/** The API's name and version, as the description and the index at /api/v1 give them. */
export const API_INFO = { title: 'Tour Booking API', version: '1.0.0' } as const;

/** The `security` of a route that needs a signed-in caller: a bearer token or the accessToken cookie. */
export const SIGNED_IN: Record<string, string[]>[] = [{ bearerAuth: [] }, { cookieAuth: [] }];

/**
 * The policy of the /docs pages: scripts only from this server; styles may also be inline, because Swagger UI
 * adds a <style> element while it runs (blocked, it is a console error on every load).
 */
const DOCS_CSP =
  "default-src 'self'; base-uri 'self'; connect-src 'self'; font-src 'self' data:; form-action 'self'; " +
  "frame-ancestors 'self'; img-src 'self' data:; object-src 'none'; script-src 'self'; script-src-attr 'none'; " +
  "style-src 'self' 'unsafe-inline'";

/**
 * OpenAPI generated from the route schemas, at /openapi.json, and an interactive reference at /docs. The
 * description is the same on every server (its server URL is relative), so docs/openapi.json in the
 * repository can be checked against it.
 */
export async function registerDocs(app: FastifyInstance) {
  // The Zod schemas of every route registered from here on, so the description's error examples come from
  // running the route's own validation (keyed as the description names routes: `GET /api/v1/tour/{id}`).
  const routeSchemas = new Map<string, RouteSchemas>();
  app.addHook('onRoute', (route) => {
    if (!route.schema) return;
    const { body, querystring, params, headers } = route.schema as RouteSchemas;
    const path = route.url.replace(/:(\w+)/g, '{$1}');
    for (const method of [route.method].flat()) {
      routeSchemas.set(`${method} ${path}`, { body, querystring, params, headers });
    }
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        ...API_INFO,
        description:
          'Accounts, catalogue, bookings and payments. Amounts are in major units of BDT. Every error answer ' +
          'is the error envelope (`ErrorResponse`) with a stable `code`.',
      },
      servers: [{ url: '/', description: 'The server that serves this description' }],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          cookieAuth: { type: 'apiKey', in: 'cookie', name: 'accessToken' },
        },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: (document) =>
      completeApiDescription((document as { openapiObject: Record<string, unknown> }).openapiObject, {
        unthrottledPaths: UNTHROTTLED_PATHS,
        routeSchemas,
      }),
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: DOCS_CSP });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
