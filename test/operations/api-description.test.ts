import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/lib/errors.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createUser, type TestUser } from '../helpers/factories.js';

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
let admin: TestUser;
let served: Json & { paths: Record<string, Record<string, Operation>>; components: { schemas: Json } };

beforeAll(async () => {
  t = await buildTestApp();
  admin = await createUser(t.ctx, { role: 'ADMIN' });
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
        ...(operation.requestBody ? ['413', '415'] : []),
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

  it("each route's 400 example names its own fields, and is what the route answers", async () => {
    for (const { route, operation } of operations()) {
      const example = operation.responses['400']?.content?.['application/json']?.example as
        | { code: string; message: string; errorSources: { path: string; message: string }[] }
        | undefined;
      if (example?.code !== 'VALIDATION_ERROR') continue;
      const body = (operation.requestBody as { content?: Record<string, { schema?: Json }> } | undefined)
        ?.content?.['application/json']?.schema;
      const fields = [
        ...Object.keys((body?.properties as Json | undefined) ?? {}),
        ...(operation.parameters ?? []).map((p) => p.name),
      ];
      expect(example.errorSources.length, route).toBeGreaterThan(0);
      for (const source of example.errorSources) expect(fields, route).toContain(source.path);
      expect(example.errorSources, route).toEqual(
        example.errorSources.map(() => ({ path: expect.any(String), message: expect.any(String) })),
      );
      // As the error handler words schema failures, or a service's own message about the field.
      const first = example.errorSources[0]!;
      expect(
        [`${first.path}: ${first.message}`, first.message].includes(example.message) ||
          example.message.startsWith('Validation failed: '),
        `${route}: ${example.message}`,
      ).toBe(true);
    }

    const example = (path: string, method: string, status: string) =>
      served.paths[path]![method]!.responses[status]!.content!['application/json']!.example as Json;
    const answered = (res: { json(): Json }) => {
      const { message, errorSources } = res.json();
      return { message, errorSources };
    };
    const documented = (path: string, method: string, status: string) => {
      const { message, errorSources } = example(path, method, status);
      return { message, errorSources };
    };
    // An empty body where fields are required: every one is named, as the example says.
    const register = await t.app.inject({ method: 'POST', url: '/api/v1/user/register', payload: {} });
    expect(answered(register)).toEqual(documented('/api/v1/user/register', 'post', '400'));
    const login = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: {} });
    expect(answered(login)).toEqual(documented('/api/v1/auth/login', 'post', '400'));
    // A malformed id in the path, and a number that is not one in the query.
    const booking = await t.app.inject({
      method: 'GET',
      url: '/api/v1/booking/not-an-id',
      headers: admin.auth,
    });
    expect(answered(booking)).toEqual(documented('/api/v1/booking/{bookingId}', 'get', '400'));
    const stats = await t.app.inject({
      method: 'GET',
      url: '/api/v1/stats/booking?days=many',
      headers: admin.auth,
    });
    expect(answered(stats)).toEqual(documented('/api/v1/stats/booking', 'get', '400'));
  });

  it("each route's 404 example names its resource, as the route answers", async () => {
    const missing = '01936f3e-8a4b-7c2d-9e1f-2a3b4c5d6e7f';
    const cases: [string, string, string][] = [
      ['/api/v1/departures/{id}', `/api/v1/departures/${missing}`, 'Departure not found'],
      ['/api/v1/tour/{slug}', '/api/v1/tour/no-such-tour', 'Tour not found'],
      ['/api/v1/booking/{bookingId}', `/api/v1/booking/${missing}`, 'Booking not found'],
      ['/api/v1/user/{id}', `/api/v1/user/${missing}`, 'User not found'],
    ];
    for (const [path, url, message] of cases) {
      const documented = served.paths[path]!.get!.responses['404']!.content!['application/json']!.example!;
      expect(documented.message, path).toBe(message);
      const res = await t.app.inject({ method: 'GET', url, headers: admin.auth });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().message, url).toBe(message);
    }
  });

  it('the payment returns are documented as the redirects they answer, with the forms the gateway posts', async () => {
    for (const kind of ['success', 'fail', 'cancel']) {
      const operation = served.paths[`/api/v1/payment/${kind}`]!.post!;
      expect(Object.keys(operation.responses), kind).not.toContain('200');
      expect(operation.responses['302'], kind).toMatchObject({
        description: expect.stringContaining(`/api/v1/payment/result/${kind}`),
        headers: { Location: { schema: { type: 'string' } } },
      });
      expect(operation.responses['302']).not.toHaveProperty('content');
      const content = (operation.requestBody as { content: Json }).content;
      expect(Object.keys(content).sort(), kind).toEqual([
        'application/json',
        'application/x-www-form-urlencoded',
      ]);
      const res = await t.app.inject({
        method: 'POST',
        url: `/api/v1/payment/${kind}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ tran_id: 'tran_unknown', status: 'FAILED' }).toString(),
      });
      expect(res.statusCode, kind).toBe(302);
      expect(res.headers.location, kind).toEqual(expect.any(String));
    }
    expect(Object.keys(served.paths['/api/v1/auth/google']!.get!.responses)).toContain('302');
  });

  it('the catalogue writes declare their multipart form: data as JSON, images as files', async () => {
    const uploads: [string, string, string][] = [
      ['/api/v1/division/create', 'post', 'file'],
      ['/api/v1/division/{id}', 'patch', 'file'],
      ['/api/v1/tour/create', 'post', 'files'],
      ['/api/v1/tour/{id}', 'patch', 'files'],
    ];
    for (const [path, method, field] of uploads) {
      const operation = served.paths[path]![method]!;
      const content = (operation.requestBody as { content: Record<string, Json> }).content;
      const json = content['application/json']!.schema as Json;
      const multipart = content['multipart/form-data'] as {
        schema: { properties: Record<string, Json> };
        encoding: Json;
      };
      expect(multipart, path).toBeDefined();
      expect(multipart.encoding).toEqual({ data: { contentType: 'application/json' } });
      expect(multipart.schema.properties.data!.properties, path).toEqual(json.properties);
      const images = multipart.schema.properties[field]!;
      expect(field === 'files' ? images.items : images, path).toMatchObject({
        type: 'string',
        format: 'binary',
      });
      expect(operation.responses['413']!.content!['application/json']!.example, path).toMatchObject({
        code: 'PAYLOAD_TOO_LARGE',
        errorSources: [{ path: field }],
      });
    }
    // The form as documented works: the JSON fields in `data`.
    const boundary = 'docs-boundary';
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/division/create',
      headers: { ...admin.auth, 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload:
        `--${boundary}\r\nContent-Disposition: form-data; name="data"\r\nContent-Type: application/json\r\n\r\n` +
        `${JSON.stringify({ name: 'Barishal Docs', description: 'Rivers' })}\r\n--${boundary}--\r\n`,
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().data.name).toBe('Barishal Docs');
  });

  it('routes with a body document the 415 a body of another type gets, as the server words it', async () => {
    const documented =
      served.paths['/api/v1/user/register']!.post!.responses['415']!.content!['application/json']!.example!;
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/user/register',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: JSON.stringify({
        name: 'Nusrat Jahan',
        email: 'docs@example.com',
        password: 'Sundarban-Trip-2026',
      }),
    });
    expect(res.statusCode).toBe(415);
    expect({ message: res.json().message, errorSources: res.json().errorSources }).toEqual({
      message: documented.message,
      errorSources: documented.errorSources,
    });
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
