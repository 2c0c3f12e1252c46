import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTour } from '../helpers/booking-fixtures.js';
import { createUser } from '../helpers/factories.js';

// Every line the app logs, as parsed JSON, from the start of each test.
let logLines: Record<string, unknown>[] = [];
const logStream = new Writable({
  write(chunk, _encoding, done) {
    for (const line of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
    done();
  },
});
const logText = () => logLines.map((line) => JSON.stringify(line)).join('\n');
const loggedUrls = () =>
  logLines.flatMap((line) => {
    const req = line.req as { url?: string } | undefined;
    return req?.url ? [req.url] : [];
  });

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({
    logger: { level: 'info', stream: logStream },
    beforeReady: (app) => {
      app.get('/test/crash', async () => {
        throw new Error('boom');
      });
    },
  });
});
afterAll(() => t?.close());
beforeEach(() => {
  logLines = [];
});

describe('request ids', () => {
  it.each([
    ['markup', '<script>alert(1)</script>'],
    ['8 KB of text', 'a'.repeat(8192)],
    ['spaces and quotes', 'id with "quotes"'],
    ['65 characters', 'x'.repeat(65)],
  ])('a client id made of %s is replaced by a generated one', async (_label, sent) => {
    const res = await t.app.inject({ method: 'GET', url: '/test/crash', headers: { 'x-request-id': sent } });
    expect(res.statusCode).toBe(500);
    const id = res.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.json().requestId).toBe(id);
    expect(res.body).not.toContain(sent);
    expect(logText()).not.toContain(sent);
    expect(logLines.some((line) => line.reqId === id)).toBe(true);
  });

  it('a short safe client id is kept, in the header, the error body and the logs', async () => {
    const sent = 'edge-7f3a.2024:req_01';
    const res = await t.app.inject({ method: 'GET', url: '/test/crash', headers: { 'x-request-id': sent } });
    expect(res.headers['x-request-id']).toBe(sent);
    expect(res.json().requestId).toBe(sent);
    expect(logLines.some((line) => line.reqId === sent)).toBe(true);
  });

  it('each request without an id gets its own', async () => {
    const [a, b] = await Promise.all([
      t.app.inject({ method: 'GET', url: '/health' }),
      t.app.inject({ method: 'GET', url: '/health' }),
    ]);
    expect(a.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
  });
});

describe('request logs', () => {
  it('keep the payment routes but not the transaction ids, payment ids or invoice signatures in them', async () => {
    const owner = await createUser(t.ctx);
    const tour = await createTour(t.ctx, { costFrom: 500 });
    const booked = await t.app.inject({
      method: 'POST',
      url: '/api/v1/booking',
      headers: owner.auth,
      payload: { tour: tour.id, guestCount: 1 },
    });
    expect(booked.statusCode).toBe(201);
    const { paymentUrl, booking } = booked.json().data as {
      paymentUrl: string;
      booking: { payment: { _id: string; transactionId: string } };
    };
    const { transactionId, _id: paymentId } = booking.payment;

    const pageUrl = new URL(paymentUrl);
    const pageSignature = pageUrl.searchParams.get('signature')!;
    const page = await t.app.inject({ method: 'GET', url: `${pageUrl.pathname}${pageUrl.search}` });
    expect(page.statusCode).toBe(200);
    // The page's Pay form, submitted as a browser would.
    const [, action, inner] = /<form method="post" action="([^"]+)">(.*?)<\/form>/s.exec(page.body)!;
    const fields = [...inner!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)];
    const paid = await t.app.inject({
      method: 'POST',
      url: action!.replace(/&amp;/g, '&'),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(
        fields.map(([, name, value]): [string, string] => [name!, value!]),
      ).toString(),
    });
    expect(paid.statusCode).toBe(302);
    const link = await t.app.inject({
      method: 'GET',
      url: `/api/v1/payment/invoice/${paymentId}`,
      headers: owner.auth,
    });
    expect(link.statusCode).toBe(200);
    const download = new URL(link.json().data);
    const signature = download.searchParams.get('signature')!;
    const pdf = await t.app.inject({ method: 'GET', url: `${download.pathname}${download.search}` });
    expect(pdf.statusCode).toBe(200);
    // Made-up values are capabilities to whoever reads the log just the same.
    const guessed = await t.app.inject({
      method: 'POST',
      url: '/api/v1/payment/fail?tran_id=GUESSED-TRAN-1',
    });
    expect(guessed.statusCode).toBeLessThan(500);

    const text = logText();
    for (const secret of [transactionId, signature, pageSignature, 'GUESSED-TRAN-1']) {
      expect(text, secret).not.toContain(secret);
    }
    // A payment id opens nothing by itself (domain events name payments by it), but URLs never show it.
    const urls = loggedUrls();
    for (const url of urls) expect(url).not.toContain(paymentId);
    expect(urls).toEqual(
      expect.arrayContaining([
        '/api/v1/payment/local-gateway/[redacted]?signature=[redacted]',
        expect.stringMatching(/^\/api\/v1\/payment\/success\?transactionId=\[redacted\]/),
        '/api/v1/payment/invoice/[redacted]',
        '/api/v1/payment/invoice/[redacted]/download?expires=[redacted]&signature=[redacted]',
        '/api/v1/payment/fail?tran_id=[redacted]',
      ]),
    );
    for (const url of urls.filter((u) => u.startsWith('/api/v1/payment/'))) {
      for (const value of new URLSearchParams(url.split('?')[1] ?? '').values()) {
        expect(value, url).toBe('[redacted]');
      }
    }
    // Routes whose ids are no capability keep them, for tracing.
    expect(urls).toContain('/api/v1/booking');
  });

  it('keep the rest of a URL as it was', async () => {
    await t.app.inject({ method: 'GET', url: '/api/v1/tour?searchTerm=sajek&page=2' });
    expect(loggedUrls()).toContain('/api/v1/tour?searchTerm=sajek&page=2');
  });
});
