import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createUser, type TestUser } from '../helpers/factories.js';

// The security headers every answer carries, with their exact values: helmet's defaults, without a content
// security policy (the docs and the local payment page set their own) and with cross-origin resources allowed
// (front ends on other origins show the uploaded images).
const SECURITY_HEADERS: Record<string, string> = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'cross-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};

let t: TestApp;
let user: TestUser;

beforeAll(async () => {
  t = await buildTestApp({ env: { RATE_LIMIT_MAX: '1000' } });
  user = await createUser(t.ctx);
});
afterAll(() => t?.close());

function expectSecurityHeaders(res: LightMyRequestResponse, label: string) {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    expect(res.headers[name], `${label}: ${name}`).toBe(value);
  }
  expect(res.headers['content-security-policy'], label).toBeUndefined();
  expect(res.headers['x-powered-by'], label).toBeUndefined();
}

describe('every answer carries the same headers', () => {
  it.each([
    ['a public 200', 200, { method: 'GET', url: '/api/v1/tour' }],
    ['a signed-in 200', 200, { method: 'GET', url: '/api/v1/user/me', signedIn: true }],
    ['a 401', 401, { method: 'GET', url: '/api/v1/user/me' }],
    ['a 403', 403, { method: 'GET', url: '/api/v1/stats/user', signedIn: true }],
    ['a 400', 400, { method: 'GET', url: '/api/v1/tour?page=abc' }],
    ['a 404 route', 404, { method: 'GET', url: '/api/v1/nothing-here' }],
    ['a 404 resource', 404, { method: 'GET', url: '/api/v1/tour/no-such-tour' }],
    ['a HEAD', 200, { method: 'HEAD', url: '/health' }],
    ['the metrics', 200, { method: 'GET', url: '/metrics' }],
  ] as const)(
    '%s',
    async (label, status, {
      signedIn,
      ...request
    }: {
      method: 'GET' | 'HEAD';
      url: string;
      signedIn?: boolean;
    }) => {
      const res = await t.app.inject({ ...request, headers: signedIn ? user.auth : {} });
      expect(res.statusCode, label).toBe(status);
      expectSecurityHeaders(res, label);
      expect(res.headers['x-request-id'], label).toMatch(/^[\w-]+$/);
      // The global rate limit counts every routed request except the operational endpoints.
      if (label === 'a 404 route') {
        expect(res.headers['x-ratelimit-limit'], label).toBeUndefined();
      } else if (request.url !== '/metrics' && request.url !== '/health') {
        expect(res.headers['x-ratelimit-limit'], label).toBe('1000');
        expect(Number(res.headers['x-ratelimit-remaining']), label).toBeGreaterThanOrEqual(0);
        expect(res.headers['x-ratelimit-reset'], label).toMatch(/^\d+$/);
      }
    },
  );

  it('a CORS preflight', async () => {
    const res = await t.app.inject({
      method: 'OPTIONS',
      url: '/api/v1/user/me',
      headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'GET' },
    });
    expect(res.statusCode).toBe(204);
    expectSecurityHeaders(res, 'preflight');
    expect(res.headers['access-control-allow-origin']).toBe('http://localhost:3000');
  });

  it('a well-formed client request id is echoed, any other replaced', async () => {
    const kept = await t.app.inject({
      method: 'GET',
      url: '/health',
      headers: { 'x-request-id': 'abc-123' },
    });
    expect(kept.headers['x-request-id']).toBe('abc-123');
    const replaced = await t.app.inject({
      method: 'GET',
      url: '/health',
      headers: { 'x-request-id': 'no spaces allowed' },
    });
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('counts each answer under its route, method and status in the metrics', async () => {
    const scrape = async () => (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    const count = (body: string, labels: string) => {
      const line = body.split('\n').find((l) => l.startsWith(`http_requests_total{${labels}} `));
      return line ? Number(line.split(' ').at(-1)) : 0;
    };
    const me = 'method="GET",route="/api/v1/user/me",status_code="200"';
    const refused = 'method="GET",route="/api/v1/user/me",status_code="401"';
    const unmatched = 'method="GET",route="unmatched",status_code="404"';
    const before = await scrape();
    for (let k = 0; k < 3; k += 1) {
      await t.app.inject({ method: 'GET', url: '/api/v1/user/me', headers: user.auth });
    }
    await t.app.inject({ method: 'GET', url: '/api/v1/user/me' });
    await t.app.inject({ method: 'GET', url: '/api/v1/nothing-here' });
    const after = await scrape();
    expect(count(after, me) - count(before, me)).toBe(3);
    expect(count(after, refused) - count(before, refused)).toBe(1);
    expect(count(after, unmatched) - count(before, unmatched)).toBe(1);
    expect(after).toContain(`http_request_duration_seconds_count{${me}} ${count(after, me)}`);
    // The scrape itself is not counted.
    expect(after).not.toContain('route="/metrics"');
  });
});

describe('a multipart body outside the catalogue writes', () => {
  it('is not read: a 415 that says the route takes JSON, with the headers every answer has', async () => {
    const boundary = 'x-boundary';
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload: `--${boundary}\r\nContent-Disposition: form-data; name="email"\r\n\r\na@b.c\r\n--${boundary}--\r\n`,
    });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ success: false, code: 'UNSUPPORTED_MEDIA_TYPE' });
    expectSecurityHeaders(res, 'multipart');
  });
});
