import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTour } from '../helpers/booking-fixtures.js';
import { createUser } from '../helpers/factories.js';

/** The local gateway page's path with its signed query, as a browser opens the payment link. */
const localPath = (url: string) => {
  const { pathname, search } = new URL(url);
  return `${pathname}${search}`;
};

// No FRONTEND_URL: the payer's browser has to land somewhere this server serves.
let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ env: { FRONTEND_URL: undefined } });
});
afterAll(() => t?.close());

async function openPaymentPage() {
  const owner = await createUser(t.ctx);
  const tour = await createTour(t.ctx, { costFrom: 999.99, title: 'Srimangal Tea Trail' });
  const booked = await t.app.inject({
    method: 'POST',
    url: '/api/v1/booking',
    headers: owner.auth,
    payload: { tour: tour.id, guestCount: 2 },
  });
  expect(booked.statusCode).toBe(201);
  const { paymentUrl, booking } = booked.json().data;
  const page = await t.app.inject({ method: 'GET', url: localPath(paymentUrl) });
  expect(page.statusCode).toBe(200);
  const forms = Object.fromEntries(
    [...page.body.matchAll(/<form method="post" action="([^"]+)">(.*?)<\/form>/gs)].map(
      ([, action, inner]) => [
        /<button[^>]*>(\w+)/.exec(inner!)![1]!,
        {
          action: action!.replace(/&amp;/g, '&'),
          fields: Object.fromEntries(
            [...inner!.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]),
          ),
        },
      ],
    ),
  ) as Record<string, { action: string; fields: Record<string, string> }>;
  return { page, forms, transactionId: booking.payment.transactionId as string };
}

async function submitAndFollow(form: { action: string; fields: Record<string, string> }) {
  const res = await t.app.inject({
    method: 'POST',
    url: form.action,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(form.fields).toString(),
  });
  expect(res.statusCode).toBe(302);
  const location = new URL(String(res.headers.location));
  expect(location.origin).toBe('http://api.test.local');
  const page = await t.app.inject({ method: 'GET', url: `${location.pathname}${location.search}` });
  expect(page.statusCode).toBe(200);
  expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(page.headers['content-security-policy']).toContain("default-src 'none'");
  return { location, page };
}

describe('payment results without a front end', () => {
  it('Pay lands on a result page of this server showing the payment as recorded', async () => {
    const { forms, transactionId } = await openPaymentPage();
    const { location, page } = await submitAndFollow(forms.Pay!);
    expect(location.pathname).toBe('/api/v1/payment/result/success');
    expect(location.searchParams.get('transactionId')).toBe(transactionId);
    expect(page.body).toContain('<h1 class="ok">Payment complete</h1>');
    expect(page.body).toContain('Srimangal Tea Trail');
    expect(page.body).toContain('BDT 1,999.98');
    expect(page.body).toContain(`<code>${transactionId}</code>`);
    expect(page.body).toContain('Payment Completed Successfully');
  });

  it('Cancel and Fail land on their own result pages', async () => {
    const cancelled = await submitAndFollow((await openPaymentPage()).forms.Cancel!);
    expect(cancelled.location.pathname).toBe('/api/v1/payment/result/cancel');
    expect(cancelled.page.body).toContain('<h1 class="bad">Payment cancelled</h1>');
    const failed = await submitAndFollow((await openPaymentPage()).forms.Fail!);
    expect(failed.location.pathname).toBe('/api/v1/payment/result/fail');
    expect(failed.page.body).toContain('<h1 class="bad">Payment failed</h1>');
  });

  it('shows only what the server knows: nothing of the link is repeated, whatever it carries', async () => {
    const { transactionId } = await openPaymentPage();
    const crafted = new URLSearchParams({
      transactionId,
      message: '<script>alert(1)</script> Your booking is confirmed',
      status: 'success',
    });
    const page = await t.app.inject({ method: 'GET', url: `/api/v1/payment/result/success?${crafted}` });
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain('script');
    expect(page.body).not.toContain('Your booking is confirmed');
    // Still unpaid on record: not "complete", whatever the link says.
    expect(page.body).toContain('Payment being verified');
    expect(page.body).not.toContain('Payment complete');

    const forged = new URLSearchParams({
      transactionId: 'Your booking is confirmed',
      message: 'Your booking is confirmed',
    });
    const unknown = await t.app.inject({ method: 'GET', url: `/api/v1/payment/result/success?${forged}` });
    expect(unknown.body).toContain('Payment not found');
    expect(unknown.body).not.toContain('Your booking is confirmed');
    expect(unknown.body).not.toContain('confirmed');
    const tagged = await t.app.inject({
      method: 'GET',
      url: '/api/v1/payment/result/success?transactionId=%22%3E%3Cimg%20src%3Dx%3E',
    });
    expect(tagged.body).toContain('Payment not found');
    expect(tagged.body).not.toContain('img');

    const wrongKind = await t.app.inject({ method: 'GET', url: '/api/v1/payment/result/refund' });
    expect(wrongKind.statusCode).toBe(400);
  });

  it('a failed attempt says until when the seats are held, from the record', async () => {
    const { forms } = await openPaymentPage();
    const failed = await submitAndFollow(forms.Fail!);
    expect(failed.page.body).toMatch(
      /Payment Failed: no money was taken\. Your seats stay held until \d{4}-\d\d-\d\dT[\d:.]+Z, so you can still pay/,
    );
  });

  it('the payment and result pages fit a 360 px phone screen', async () => {
    const { page } = await openPaymentPage();
    const result = await t.app.inject({ method: 'GET', url: '/api/v1/payment/result/fail' });
    for (const html of [page.body, result.body]) {
      expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
      const css = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
      // Padding and borders count inside widths; the 37-character transaction id wraps instead of widening
      // the page; the definition list loses the browser's 40 px indent and lets its values shrink.
      expect(css).toContain('*{box-sizing:border-box}');
      expect(css).toContain('code{word-break:break-all}');
      expect(css).toMatch(/dd\{[^}]*margin:0[^}]*min-width:0[^}]*overflow-wrap:anywhere/);
      expect(css).toContain('grid-template-columns:auto minmax(0,1fr)');
      // Nothing is wider than the screen: no fixed widths other than the maximum of the column.
      expect(css.replace('max-width:32rem', '')).not.toMatch(/(^|[{;])(min-)?width:(?!0[;}])/);
    }
  });
});
