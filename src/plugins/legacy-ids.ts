import { and, inArray, ne } from 'drizzle-orm';
import type { FastifyInstance, FastifyRequest, preValidationHookHandler, RouteOptions } from 'fastify';
import type { Database } from '../db/client.js';
import { legacyIds } from '../db/schema/index.js';

/** A MongoDB ObjectId as the legacy backend wrote it in paths and filters. */
const OBJECT_ID = /^[0-9a-f]{24}$/i;

/** Values that name no record even when they look like one: slugs, search terms, sort and projection lists. */
const NOT_IDS = new Set(['slug', 'searchTerm', 'sort', 'fields']);

type Values = Record<string, unknown>;

function objectIdsIn(values: unknown, found: Set<string>): void {
  if (!values || typeof values !== 'object') return;
  for (const [key, value] of Object.entries(values as Values)) {
    if (NOT_IDS.has(key)) continue;
    if (typeof value === 'string' && OBJECT_ID.test(value)) found.add(value.toLowerCase());
  }
}

function replaceIn(values: unknown, resolved: Map<string, string>): void {
  if (!values || typeof values !== 'object') return;
  const record = values as Values;
  for (const [key, value] of Object.entries(record)) {
    if (NOT_IDS.has(key) || typeof value !== 'string') continue;
    const newId = resolved.get(value.toLowerCase());
    if (newId) record[key] = newId;
  }
}

async function resolve(db: Database, request: FastifyRequest, ids: Set<string>): Promise<void> {
  const rows = await db
    .select({ legacyId: legacyIds.legacyId, newId: legacyIds.newId })
    .from(legacyIds)
    .where(and(inArray(legacyIds.legacyId, [...ids]), ne(legacyIds.collection, 'tours.departure')));
  if (rows.length === 0) return;
  const resolved = new Map(rows.map((r) => [r.legacyId, r.newId]));
  replaceIn(request.params, resolved);
  replaceIn(request.query, resolved);
}

/** True when a route can carry an id: a path parameter other than a slug, or a query string. */
function takesIds(route: RouteOptions): boolean {
  const params = [...route.url.matchAll(/:(\w+)/g)].map((m) => m[1]!);
  return params.some((name) => !NOT_IDS.has(name)) || Boolean(route.schema?.querystring);
}

/**
 * Records imported from the legacy backend keep answering to their MongoDB ObjectIds: a 24-hex id in a
 * path parameter or a query filter is replaced by the id of the record it became, before validation, so
 * every route takes it as if the client had sent the new id. An unknown ObjectId is left as it is (and
 * refused as any malformed id). Only routes that can carry an id get the hook (GET /tour/:slug does not),
 * and a request without a 24-hex value pays one regular-expression test per value. Register before routes.
 */
export function registerLegacyIdResolution(app: FastifyInstance, db: Database): void {
  const resolveLegacyIds: preValidationHookHandler = (request, _reply, done) => {
    const found = new Set<string>();
    objectIdsIn(request.params, found);
    objectIdsIn(request.query, found);
    if (found.size === 0) return done();
    resolve(db, request, found).then(() => done(), done);
  };
  app.addHook('onRoute', (route) => {
    if (!takesIds(route)) return;
    const own = route.preValidation;
    route.preValidation = own ? [resolveLegacyIds, ...(Array.isArray(own) ? own : [own])] : resolveLegacyIds;
  });
}
