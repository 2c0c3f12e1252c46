import type { FastifyInstance } from 'fastify';
import type { JsonSchema } from './request-arbitraries.js';

/** One documented operation of `/openapi.json`, with what a test needs to call it. */
export interface Operation {
  method: string;
  /** OpenAPI form, e.g. `/api/v1/booking/{bookingId}`. */
  path: string;
  pathParams: string[];
  query: Record<string, JsonSchema>;
  body?: JsonSchema;
  /** Declares `security` in the OpenAPI document. */
  documentedAsGuarded: boolean;
}

interface OpenApiParameter {
  in: string;
  name: string;
  schema?: JsonSchema;
}

interface OpenApiOperation {
  parameters?: OpenApiParameter[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  security?: unknown[];
}

/** Every operation the running app documents, read from its own `/openapi.json`. */
export async function documentedOperations(app: FastifyInstance): Promise<Operation[]> {
  const res = await app.inject({ method: 'GET', url: '/openapi.json' });
  const doc = res.json() as { paths: Record<string, Record<string, OpenApiOperation>> };
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const parameters = op.parameters ?? [];
      operations.push({
        method: method.toUpperCase(),
        path,
        pathParams: [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!),
        query: Object.fromEntries(
          parameters.filter((p) => p.in === 'query').map((p) => [p.name, p.schema ?? {}]),
        ),
        body: op.requestBody ? Object.values(op.requestBody.content)[0]?.schema : undefined,
        documentedAsGuarded: Array.isArray(op.security) && op.security.length > 0,
      });
    }
  }
  return operations;
}

/** Routes the app serves but hides from the API description; fuzzed too. */
export const HIDDEN_OPERATIONS: Operation[] = [
  {
    method: 'GET',
    path: '/uploads/images/{name}',
    pathParams: ['name'],
    query: {},
    documentedAsGuarded: false,
  },
  { method: 'GET', path: '/openapi.json', pathParams: [], query: {}, documentedAsGuarded: false },
  { method: 'GET', path: '/metrics', pathParams: [], query: {}, documentedAsGuarded: false },
];

export const operationKey = (op: { method: string; path: string }) => `${op.method} ${op.path}`;

export function fillPath(path: string, segments: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => segments[name] ?? '');
}
