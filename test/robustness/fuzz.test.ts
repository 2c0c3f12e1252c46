import { eq } from 'drizzle-orm';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { users } from '../../src/db/schema/index.js';
import { buildTestApp } from '../helpers/app.js';
import type { TestUser } from '../helpers/factories.js';
import { forgedAccessTokens } from '../helpers/forged-tokens.js';
import { startOidcProvider } from '../helpers/oidc-provider.js';
import { populateWorld, renewSession } from '../helpers/populated-world.js';
import {
  headerText,
  nastyString,
  pathSegment,
  queryString,
  type RawBody,
  rawBody,
} from './request-arbitraries.js';
import { expectErrorEnvelope, expectNothingInternal } from './response-checks.js';
import {
  documentedOperations,
  fillPath,
  HIDDEN_OPERATIONS,
  type Operation,
  operationKey,
} from './route-table.js';

/*
 * Property-based fuzzing of every route in /openapi.json (plus the hidden ones), anonymously, with forged
 * tokens and as an admin. The rule: never a 5xx; every 4xx is the JSON error envelope; nothing internal
 * leaks. The seed is fixed so CI is reproducible; FUZZ_SEED=<n> explores others, FUZZ_RUNS raises the count
 * (runs per property; each route has two), FUZZ_TALLY=1 prints the statuses each route answered (to see that
 * requests get past validation). A failure prints the seed and the shrunk request.
 */
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 20_261_126;
const RUNS = Number(process.env.FUZZ_RUNS ?? 12);

const provider = await startOidcProvider({
  redirectUri: 'http://api.test.local/api/v1/auth/google/callback',
});
const t = await buildTestApp({
  env: { ...provider.env, AUTH_RATE_LIMIT_MAX: '1000000' },
});
afterAll(async () => {
  await t.close();
  await provider.close();
});

const world = await populateWorld(t.app);
const people: Record<string, TestUser> = {
  owner: world.owner,
  stranger: world.stranger,
  guide: world.guide,
  admin: world.admin,
  superAdmin: world.superAdmin,
};
const forged = await forgedAccessTokens(t.ctx.config, world.owner);
const operations = [...(await documentedOperations(t.app)), ...HIDDEN_OPERATIONS];

const realIds = [
  world.division.id,
  world.tourType.id,
  world.tour.id,
  world.pending.bookingId,
  world.paid.bookingId,
  world.pending.paymentId,
  world.paid.paymentId,
  ...Object.values(people).map((u) => u.id),
];
// Real values for body fields by name, so some requests are valid and reach the services.
const hints: Record<string, string[]> = {
  tour: [world.tour.id],
  division: [world.division.id],
  tourType: [world.tourType.id],
  id: [world.owner.id, world.stranger.id],
};
const known = [...realIds, world.tour.slug, world.division.slug, world.pending.transactionId];

/** Real values for a path parameter of a route, so fuzzed requests also reach existing rows. */
function realValues(path: string, name: string): string[] {
  switch (name) {
    case 'bookingId':
      return [world.pending.bookingId, world.paid.bookingId];
    case 'paymentId':
      return [world.pending.paymentId, world.paid.paymentId];
    case 'transactionId':
      return [world.pending.transactionId, world.paid.transactionId];
    case 'slug':
      return path.includes('/division/') ? [world.division.slug] : [world.tour.slug];
    case 'name':
      return ['a.png', 'missing.webp', '..png', 'a..png', '-a.png', '_a.webp'];
    default:
      if (path.includes('/auth/sessions/')) return Object.values(people).map((u) => u.sessionId);
      if (path.includes('/user/')) return Object.values(people).map((u) => u.id);
      if (path.includes('/tour-types/')) return [world.tourType.id];
      if (path.includes('/division/')) return [world.division.id];
      if (path.includes('/tour/')) return [world.tour.id];
      return realIds;
  }
}

type Caller = { kind: 'person'; who: string; viaCookie: boolean } | { kind: 'token'; value: string };

const anonymousCallers: fc.Arbitrary<Caller> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<Caller>({ kind: 'token', value: '' }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(...Object.values(forged)).map((value): Caller => ({ kind: 'token', value })),
  },
  { weight: 1, arbitrary: headerText(300).map((value): Caller => ({ kind: 'token', value })) },
  {
    weight: 2,
    arbitrary: fc
      .record({ who: fc.constantFrom('owner', 'stranger', 'guide'), viaCookie: fc.boolean() })
      .map((p): Caller => ({ kind: 'person', ...p })),
  },
);
const adminCallers: fc.Arbitrary<Caller> = fc
  .record({ who: fc.constantFrom('admin', 'superAdmin'), viaCookie: fc.boolean() })
  .map((p): Caller => ({ kind: 'person', ...p }));

function authHeaders(caller: Caller): Record<string, string> {
  if (caller.kind === 'token') return caller.value ? { authorization: `Bearer ${caller.value}` } : {};
  const user = people[caller.who]!;
  return caller.viaCookie
    ? { cookie: `accessToken=${user.accessToken}; refreshToken=${user.refreshToken}` }
    : user.auth;
}

const extraHeaders = fc.record(
  {
    'idempotency-key': fc.oneof(headerText(300), fc.uuid()),
    'x-request-id': headerText(100),
    origin: fc.constantFrom('http://localhost:3000', 'http://evil.example', 'null', ''),
    accept: fc.constantFrom('*/*', 'text/html', 'application/xml', ''),
    'accept-language': headerText(),
    'x-forwarded-for': fc.constantFrom('1.2.3.4', 'garbage', '::1, 10.0.0.1'),
    cookie: fc.constantFrom('refreshToken=garbage', 'accessToken=', 'googleSignIn=x; a=b', '%%%=;;'),
  },
  { requiredKeys: [] },
);

interface FuzzRequest {
  segments: string[];
  query: string | null;
  body: RawBody | null;
  caller: Caller;
  headers: Record<string, string>;
}

function requestArbitrary(op: Operation, callers: fc.Arbitrary<Caller>): fc.Arbitrary<FuzzRequest> {
  const segments =
    op.pathParams.length > 0
      ? fc.tuple(...op.pathParams.map((p) => pathSegment(realValues(op.path, p), known)))
      : fc.constant([] as string[]);
  const withBody = op.method !== 'GET' && op.method !== 'DELETE';
  return fc.record({
    segments,
    query: fc.option(queryString(op.query, known), { freq: 3 }),
    body: withBody
      ? fc.option(rawBody(op.body, known, hints), { freq: 6 })
      : fc.option(rawBody(undefined, known), { freq: 1 }),
    caller: callers,
    headers: extraHeaders,
  });
}

async function send(
  op: Operation,
  req: FuzzRequest,
): Promise<{ res: LightMyRequestResponse; label: string }> {
  const path = fillPath(op.path, Object.fromEntries(op.pathParams.map((p, i) => [p, req.segments[i]!])));
  const url = req.query ? `${path}?${req.query}` : path;
  const headers: Record<string, string> = { ...req.headers, ...authHeaders(req.caller) };
  if (req.headers.cookie && headers.cookie !== req.headers.cookie)
    headers.cookie = `${req.headers.cookie}; ${headers.cookie}`;
  if (req.body?.contentType) headers['content-type'] = req.body.contentType;
  const res = await t.app.inject({ method: op.method as 'GET', url, headers, payload: req.body?.payload });
  return { res, label: `${op.method} ${url.slice(0, 300)} → ${res.statusCode}` };
}

/** Statuses per route, printed with FUZZ_TALLY=1. */
const statusTally = new Map<string, Map<number, number>>();
afterAll(() => {
  if (!process.env.FUZZ_TALLY) return;
  for (const [route, tally] of statusTally) console.log(route, JSON.stringify(Object.fromEntries(tally)));
});
async function checkOne(op: Operation, req: FuzzRequest) {
  const { res, label } = await send(op, req);
  const tally = statusTally.get(operationKey(op)) ?? new Map<number, number>();
  tally.set(res.statusCode, (tally.get(res.statusCode) ?? 0) + 1);
  statusTally.set(operationKey(op), tally);
  expect(res.statusCode, `${label}\n${res.body.slice(0, 500)}`).toBeLessThan(500);
  if (res.statusCode >= 400) expectErrorEnvelope(res, label);
  expectNothingInternal(res, label, t.ctx.config);
}

/** Puts the people back as they were (a fuzzed PATCH may block or demote them) with fresh sessions. */
async function restorePeople() {
  for (const user of Object.values(people)) {
    await t.ctx.db
      .update(users)
      .set({ role: user.role, isActive: 'ACTIVE', isDeleted: false, isVerified: true })
      .where(eq(users.id, user.id));
    await renewSession(t.ctx, user);
  }
}

const fuzzOptions = { seed: SEED, numRuns: RUNS, endOnFailure: false, interruptAfterTimeLimit: 25_000 };

describe('fuzzing every route', () => {
  it('reads more than fifty operations from the API description, each once', () => {
    expect(operations.length).toBeGreaterThan(50);
    const keys = operations.map(operationKey);
    expect(new Set(keys).size).toBe(keys.length);
  });

  for (const op of operations) {
    describe(operationKey(op), () => {
      it('anonymous, forged-token and non-admin callers never get a 5xx and errors keep the envelope', async () => {
        await restorePeople();
        await fc.assert(
          fc.asyncProperty(requestArbitrary(op, anonymousCallers), (req) => checkOne(op, req)),
          fuzzOptions,
        );
      });

      it('an admin never gets a 5xx and errors keep the envelope', async () => {
        await restorePeople();
        await fc.assert(
          fc.asyncProperty(requestArbitrary(op, adminCallers), (req) => checkOne(op, req)),
          fuzzOptions,
        );
      });
    });
  }

  it('unknown routes under any method answer the 404 envelope', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE'),
        nastyString(),
        async (method, tail) => {
          const res = await t.app.inject({
            method: method as 'GET',
            url: `/api/v1/no-such-${encodeURIComponent(tail.replace(/[\ud800-\udfff]/g, ''))}`,
          });
          expect(res.statusCode).toBe(404);
          expectErrorEnvelope(res, `${method} unknown route`);
        },
      ),
      { seed: SEED, numRuns: 30 },
    );
  });
});
