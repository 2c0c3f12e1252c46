import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { users } from '../../src/db/schema/index.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';

let t: TestApp;

beforeAll(async () => {
  t = await buildTestApp({
    // Routes that exist only in this test, to exercise the error mapping of every kind.
    beforeReady: (app) => {
      app.post(
        '/test/validate',
        {
          schema: {
            body: z.object({
              name: z.string().min(2),
              tour: z.object({ guests: z.number().int().positive() }),
            }),
          },
        },
        async () => ({ ok: true }),
      );
      app.post('/test/duplicate-email', async () => {
        const values = { name: 'Dup', email: 'dup@example.com' };
        await app.ctx.db.insert(users).values(values);
        await app.ctx.db.insert(users).values(values);
        return { ok: true };
      });
      app.get('/test/crash', async () => {
        await app.ctx.db.execute(sql`select * from no_such_table`);
      });
    },
  });
});
afterAll(() => t.close());

describe('operational endpoints', () => {
  it('GET / answers the legacy welcome message', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ message: 'Welcome To Tour Management System' });
  });

  it('GET /health and /ready answer 200 in the success envelope', async () => {
    const health = await t.app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({ statusCode: 200, success: true, data: { status: 'ok' } });
    const ready = await t.app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ success: true, data: { status: 'ready', database: 'postgres' } });
  });

  it('GET /openapi.json is an OpenAPI 3 document listing the routes', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.title).toBeTruthy();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/health', '/ready']));
  });

  it('GET /docs serves the interactive reference', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
  });

  it('GET /metrics exposes request counters, latency histograms and runtime metrics', async () => {
    await t.app.inject({ method: 'GET', url: '/health' });
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('http_requests_total{method="GET",route="/health",status_code="200"}');
    expect(res.body).toContain('http_request_duration_seconds_bucket');
    expect(res.body).toContain('nodejs_eventloop_lag');
    expect(res.body).toContain('db_pool_connections');
  });

  it('sets security headers and a request id on every response', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/health' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBeDefined();
    expect(res.headers['x-request-id']).toMatch(/\S+/);
  });

  it('allows the configured front end with credentials and refuses other origins', async () => {
    const allowed = await t.app.inject({
      method: 'OPTIONS',
      url: '/api/v1/user/me',
      headers: {
        origin: 'http://localhost:3000',
        'access-control-request-method': 'PATCH',
        'access-control-request-headers': 'content-type,authorization',
      },
    });
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe('http://localhost:3000');
    expect(allowed.headers['access-control-allow-credentials']).toBe('true');
    expect(String(allowed.headers['access-control-allow-methods'])).toContain('PATCH');
    const refused = await t.app.inject({
      method: 'GET',
      url: '/health',
      headers: { origin: 'http://evil.example' },
    });
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('GET /metrics in production', () => {
  const production = { NODE_ENV: 'production', ALLOW_LOCAL_GATEWAY: 'true' };

  it('is not served without METRICS_TOKEN', async () => {
    const prod = await buildTestApp({ env: production });
    try {
      const res = await prod.app.inject({ method: 'GET', url: '/metrics' });
      expect(res.statusCode).toBe(404);
      expect(res.body).not.toContain('http_requests_total');
    } finally {
      await prod.close();
    }
  });

  it('answers only the bearer of METRICS_TOKEN when it is set', async () => {
    const token = 'scrape-token-0123456789abcdef';
    const prod = await buildTestApp({ env: { ...production, METRICS_TOKEN: token } });
    try {
      for (const authorization of [undefined, 'Bearer wrong-token', token]) {
        const res = await prod.app.inject({
          method: 'GET',
          url: '/metrics',
          headers: authorization ? { authorization } : {},
        });
        expect(res.statusCode, String(authorization)).toBe(401);
        expect(res.body).not.toContain('http_requests_total');
      }
      await prod.app.inject({ method: 'GET', url: '/health' });
      const scraped = await prod.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(scraped.statusCode).toBe(200);
      expect(scraped.body).toContain('http_requests_total{method="GET",route="/health",status_code="200"}');
    } finally {
      await prod.close();
    }
  });
});

describe('error envelope', () => {
  it('unknown routes are 404 "Route Not Found"', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({
      statusCode: 404,
      success: false,
      message: 'Route Not Found',
      code: 'NOT_FOUND',
    });
  });

  it('malformed JSON is a 400 in the envelope', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/test/validate',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": ',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      success: false,
      code: 'VALIDATION_ERROR',
      message: 'Malformed JSON in request body',
    });
  });

  it('validation errors are 400 with one errorSources entry per problem, by dotted path', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/test/validate',
      payload: { name: 'x', tour: { guests: -1 } },
    });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body).toMatchObject({ statusCode: 400, success: false, code: 'VALIDATION_ERROR' });
    expect(body.errorSources.map((s: { path: string }) => s.path).sort()).toEqual(['name', 'tour.guests']);
  });

  it('unique violations are 409 naming the field', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/test/duplicate-email' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ success: false, code: 'CONFLICT', errorSources: [{ path: 'email' }] });
  });

  it('unexpected errors are 500 with a request id and nothing internal', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/test/crash' });
    expect(res.statusCode).toBe(500);
    const body = res.json();
    expect(body).toMatchObject({ success: false, code: 'INTERNAL_ERROR', message: 'Something went wrong' });
    expect(body.requestId).toBe(res.headers['x-request-id']);
    expect(res.body).not.toMatch(/no_such_table|select|stack|at /i);
  });
});
