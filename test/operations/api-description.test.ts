import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/lib/errors.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';

type Json = Record<string, unknown>;
interface Operation {
  parameters?: { in: string; name: string; schema?: Json }[];
  requestBody?: unknown;
  security?: unknown[];
  responses: Record<
    string,
    { description: string; content?: Record<string, { schema?: Json; example?: Json }> }
  >;
}

let t: TestApp;
let served: Json & { paths: Record<string, Record<string, Operation>>; components: { schemas: Json } };

beforeAll(async () => {
  t = await buildTestApp();
  served = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
});
afterAll(() => t.close());

const operations = () =>
  Object.entries(served.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({
      route: `${method.toUpperCase()} ${path}`,
      operation,
    })),
  );

/** Every schema object under `value`, with the property name it describes. */
function* schemas(value: unknown, name?: string): Generator<{ name?: string; schema: Json }> {
  if (!value || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) yield* schemas(item, name);
    return;
  }
  const schema = value as Json;
  yield { name, schema };
  for (const [key, child] of Object.entries((schema.properties as Json) ?? {})) yield* schemas(child, key);
  if (schema.items) yield* schemas(schema.items, name);
  for (const key of ['allOf', 'anyOf', 'oneOf']) yield* schemas(schema[key], name);
}

describe('API description', () => {
  it('docs/openapi.json is the description the server serves', async () => {
    const committed = JSON.parse(await readFile(new URL('../../docs/openapi.json', import.meta.url), 'utf8'));
    expect(
      served,
      'docs/openapi.json is out of date: run `npm run openapi` and commit docs/openapi.json',
    ).toEqual(committed);
  });

  it('every route documents its error answers in the error envelope', () => {
    const envelope = served.components.schemas.ErrorResponse as { properties: { code: { enum: string[] } } };
    expect(envelope.properties.code.enum).toEqual([...ERROR_CODES]);
    for (const { route, operation } of operations()) {
      const statuses = Object.keys(operation.responses);
      const parameters = operation.parameters ?? [];
      const expected = [
        ...(operation.requestBody || parameters.length > 0 ? ['400'] : []),
        ...(operation.security?.length ? ['401', '403'] : []),
        ...(parameters.some((p) => p.in === 'path') ? ['404'] : []),
        ...(['GET /health', 'GET /ready'].includes(route) ? [] : ['429']),
      ];
      expect(statuses, route).toEqual(expect.arrayContaining(expected));
      for (const status of statuses.filter((s) => Number(s) >= 400)) {
        const media = operation.responses[status]!.content!['application/json']!;
        expect(media.schema, `${route} ${status}`).toEqual({ $ref: '#/components/schemas/ErrorResponse' });
        expect(media.example, `${route} ${status}`).toMatchObject({
          statusCode: Number(status),
          success: false,
        });
        expect(ERROR_CODES, `${route} ${status}`).toContain(media.example!.code);
        expect(operation.responses[status]!.description, `${route} ${status}`).toContain(
          `\`${media.example!.code}\``,
        );
      }
    }
  });

  it('names the answers particular routes give', () => {
    const answer = (path: string, method: string, status: string) =>
      served.paths[path]![method]!.responses[status]?.content?.['application/json']?.example;
    expect(answer('/api/v1/auth/login', 'post', '401')).toMatchObject({ message: 'Password does not match' });
    expect(answer('/api/v1/booking', 'post', '409')).toMatchObject({ code: 'SOLD_OUT' });
    expect(answer('/api/v1/booking', 'post', '422')).toMatchObject({ code: 'IDEMPOTENCY_MISMATCH' });
    expect(answer('/api/v1/payment/validate-payment', 'post', '400')).toMatchObject({
      code: 'PAYMENT_NOT_VERIFIED',
    });
    expect(answer('/api/v1/user/register', 'post', '409')).toMatchObject({ message: 'email already exists' });
    expect(served.paths['/api/v1/booking']!.post!.responses['429']).toHaveProperty('headers.Retry-After');
  });

  it('shows realistic examples: ids, dates, money, emails; no "any safe integer" bounds', () => {
    const text = JSON.stringify(served);
    expect(text).not.toContain(String(Number.MAX_SAFE_INTEGER));
    const described = operations().flatMap(({ operation }) => [
      ...(operation.parameters ?? []).map((p) => ({ name: p.name, schema: p.schema })),
      ...Object.values(operation.responses).flatMap((r) => Object.values(r.content ?? {})),
      ...Object.values((operation.requestBody as { content?: Json } | undefined)?.content ?? {}),
    ]);
    const named = described.flatMap((d) => [
      ...schemas((d as { schema?: unknown }).schema, (d as { name?: string }).name),
    ]);
    const scalar = named.filter(({ schema }) =>
      ['string', 'number', 'integer'].includes(String(schema.type)),
    );
    const lacking = (pattern: RegExp) =>
      scalar.filter(
        ({ name, schema }) => name && pattern.test(name) && schema.example === undefined && !schema.enum,
      );
    for (const pattern of [/^_id$|Id$/, /At$/, /^email$/, /^(amount|costFrom)$/, /^(page|limit|total)$/]) {
      expect(lacking(pattern), String(pattern)).toEqual([]);
    }
    const example = (name: string) => scalar.find((s) => s.name === name)?.schema.example;
    expect(example('_id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(String(example('createdAt'))).toISOString()).toBe(example('createdAt'));
    expect(example('email')).toMatch(/@example\.com$/);
    expect(example('amount')).toEqual(expect.any(Number));
    expect(text).not.toMatch(/"example":\s*"string"/);
  });

  it('/docs loads under a policy that allows its inline styles and only its own scripts', async () => {
    const page = await t.app.inject({ method: 'GET', url: '/docs/' });
    expect(page.statusCode).toBe(200);
    const policy = Object.fromEntries(
      String(page.headers['content-security-policy'])
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([name, ...values]) => [name, values]),
    );
    // Swagger UI adds a <style> element at run time: without this the browser console shows a violation.
    expect(policy['style-src']).toEqual(["'self'", "'unsafe-inline'"]);
    expect(policy['script-src']).toEqual(["'self'"]);
    expect(policy['object-src']).toEqual(["'none'"]);
    // Assets are same-origin: upgrading them to https would break /docs on a plain-http address.
    expect(policy).not.toHaveProperty('upgrade-insecure-requests');
    for (const [, src] of page.body.matchAll(/<(?:script|link)[^>]+(?:src|href)="([^"]+)"/g)) {
      const url = new URL(src!, 'http://api.test.local/docs/').pathname;
      expect((await t.app.inject({ method: 'GET', url })).statusCode, url).toBe(200);
    }
  });
});
