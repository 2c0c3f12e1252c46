import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookings, emailOutbox, paymentEvents, refunds } from '../../src/db/schema/index.js';
import { deliverDueEmails } from '../../src/lib/mail/outbox.js';
import { expireStaleHolds } from '../../src/modules/bookings/hold-sweeper.js';
import { closeUnpaidPayments } from '../../src/modules/payments/booking-payments.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { bookingState, createTour, movableClock } from '../helpers/booking-fixtures.js';
import { createUser, type TestUser } from '../helpers/factories.js';

const clock = movableClock();
let t: TestApp;

beforeAll(async () => {
  t = await buildTestApp({ clock });
});
afterAll(() => t?.close());

async function book(user: TestUser, guestCount = 2) {
  const tour = await createTour(t.ctx, { costFrom: 999.99, title: 'Srimangal Tea Trail' });
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/booking',
    headers: user.auth,
    payload: { tour: tour.id, guestCount },
  });
  expect(res.statusCode).toBe(201);
  return res.json().data as {
    paymentUrl: string;
    booking: { _id: string; payment: { _id: string; transactionId: string } };
  };
}

/** The forms of the local gateway page: label of the button → action and hidden fields. */
function formsOf(html: string) {
  const forms: Record<string, { action: string; fields: Record<string, string> }> = {};
  for (const [, action, inner] of html.matchAll(/<form method="post" action="([^"]+)">(.*?)<\/form>/gs)) {
    const fields = Object.fromEntries(
      [...inner!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1], m[2]]),
    );
    const label = /<button[^>]*>([^<]+)<\/button>/.exec(inner!)![1]!.split(' ')[0]!;
    forms[label] = { action: action!.replace(/&amp;/g, '&'), fields: fields as Record<string, string> };
  }
  return forms;
}

const submit = (form: { action: string; fields: Record<string, string> }) =>
  t.app.inject({
    method: 'POST',
    url: form.action,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(form.fields).toString(),
  });

async function openPaymentPage(paymentUrl: string) {
  const { pathname, search } = new URL(paymentUrl);
  const page = await t.app.inject({ method: 'GET', url: `${pathname}${search}` });
  expect(page.statusCode).toBe(200);
  expect(page.headers['content-type']).toContain('text/html');
  return page;
}

describe('local gateway flow', () => {
  it('book → payment page → Pay → success redirect → COMPLETE, invoice for the owner only', async () => {
    const owner = await createUser(t.ctx);
    const stranger = await createUser(t.ctx);
    const { paymentUrl, booking } = await book(owner);
    expect(paymentUrl).toMatch(
      new RegExp(
        `^http://api\\.test\\.local/api/v1/payment/local-gateway/${booking.payment.transactionId}\\?signature=[\\w-]+$`,
      ),
    );
    const page = await openPaymentPage(paymentUrl);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.body).toContain('Srimangal Tea Trail');
    expect(page.body).toContain('BDT 1,999.98');

    const paid = await submit(formsOf(page.body).Pay!);
    expect(paid.statusCode).toBe(302);
    const to = new URL(String(paid.headers.location));
    expect(`${to.origin}${to.pathname}`).toBe('http://localhost:3000/payment/success');
    expect(to.searchParams.get('amount')).toBe('1999.98');
    const state = await bookingState(t.ctx, booking._id);
    expect(state.booking.status).toBe('COMPLETE');
    expect(state.payment.status).toBe('PAID');

    // Once paid, the page no longer offers to pay.
    expect(formsOf((await openPaymentPage(paymentUrl)).body)).toEqual({});

    const link = await t.app.inject({
      method: 'GET',
      url: `/api/v1/payment/invoice/${booking.payment._id}`,
      headers: owner.auth,
    });
    expect(link.statusCode).toBe(200);
    expect(link.json().message).toBe('Invoice download URL retrieved successfully');
    const url = new URL(link.json().data);
    expect(url.pathname).toBe(`/api/v1/payment/invoice/${booking.payment._id}/download`);
    const pdf = await t.app.inject({ method: 'GET', url: `${url.pathname}${url.search}` });
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');

    const asStranger = await t.app.inject({
      method: 'GET',
      url: `/api/v1/payment/invoice/${booking.payment._id}`,
      headers: stranger.auth,
    });
    expect(asStranger.statusCode).toBe(404);
    const asAdmin = await t.app.inject({
      method: 'GET',
      url: `/api/v1/payment/invoice/${booking.payment._id}`,
      headers: (await createUser(t.ctx, { role: 'ADMIN' })).auth,
    });
    expect(asAdmin.statusCode).toBe(200);
    const listed = await t.app.inject({
      method: 'GET',
      url: `/api/v1/booking?_id=${booking._id}`,
      headers: (await createUser(t.ctx, { role: 'ADMIN' })).auth,
    });
    const item = listed.json().data.data[0];
    expect(item.payment).toMatchObject({ status: 'PAID', transactionId: booking.payment.transactionId });
    expect(item.payment.invoiceUrl).toMatch(
      /\/api\/v1\/payment\/invoice\/.+\/download\?expires=\d+&signature=/,
    );

    // Not a public file: no image URL serves it, and a tampered or expired link is refused.
    const publicTry = await t.app.inject({
      method: 'GET',
      url: `/uploads/invoices/${booking.payment._id}.pdf`,
    });
    expect(publicTry.statusCode).toBe(404);
    const tampered = await t.app.inject({
      method: 'GET',
      url: `${url.pathname}?expires=${url.searchParams.get('expires')}&signature=AAAA`,
    });
    expect(tampered.statusCode).toBe(403);
    clock.advance(16 * 60_000);
    const expired = await t.app.inject({ method: 'GET', url: `${url.pathname}${url.search}` });
    expect(expired.statusCode).toBe(403);

    // The invoice email goes out once, with the PDF attached (.eml without SMTP).
    const sent = await deliverDueEmails(
      t.ctx.db,
      (row) => t.ctx.mailer.send(row),
      clock.now(),
      () => undefined,
    );
    expect(sent).toBe(1);
    const mailDir = path.join(t.dataDir, 'mail');
    const files = (await readdir(mailDir)).filter((f) => f.includes('invoice'));
    expect(files).toHaveLength(1);
    const eml = await readFile(path.join(mailDir, files[0]!), 'utf8');
    expect(eml).toContain('Subject: Your Booking Invoice');
    expect(eml).toContain('filename=invoice.pdf');
    expect(eml).not.toContain('$');
  });

  it('the invoice email waits for its PDF: queued ten minutes ahead, released once the PDF is stored', async () => {
    const owner = await createUser(t.ctx);
    const { paymentUrl, booking } = await book(owner);
    const page = await openPaymentPage(paymentUrl);
    const storage = t.ctx.storage;
    const put = storage.put;
    storage.put = async () => {
      throw new Error('storage is down');
    };
    try {
      expect((await submit(formsOf(page.body).Pay!)).statusCode).toBe(302);
    } finally {
      storage.put = put;
    }
    expect((await bookingState(t.ctx, booking._id)).booking.status).toBe('COMPLETE');
    const invoiceMail = async () => {
      const [row] = await t.ctx.db
        .select()
        .from(emailOutbox)
        .where(eq(emailOutbox.dedupeKey, `invoice:${booking.payment._id}`));
      return row!;
    };
    expect((await invoiceMail()).nextAttemptAt.getTime()).toBe(clock.now().getTime() + 10 * 60_000);
    const sentNow = async () => {
      const sent: string[] = [];
      await deliverDueEmails(
        t.ctx.db,
        async (row) => void sent.push(row.dedupeKey ?? ''),
        clock.now(),
        () => {
          throw new Error('not expected');
        },
      );
      return sent;
    };
    expect(await sentNow()).not.toContain(`invoice:${booking.payment._id}`);

    // Asking for the invoice stores the PDF, which lets the email go now.
    const link = await t.app.inject({
      method: 'GET',
      url: `/api/v1/payment/invoice/${booking.payment._id}`,
      headers: owner.auth,
    });
    expect(link.statusCode).toBe(200);
    expect((await invoiceMail()).nextAttemptAt.getTime()).toBe(clock.now().getTime());
    expect(await sentNow()).toEqual([`invoice:${booking.payment._id}`]);
  });

  it('Cancel on the page keeps the booking payable until its hold runs out; a forged val_id never pays', async () => {
    const owner = await createUser(t.ctx);
    const { paymentUrl, booking } = await book(owner);
    const forms = formsOf((await openPaymentPage(paymentUrl)).body);
    const forged = await submit({
      ...forms.Pay!,
      fields: { ...forms.Pay!.fields, val_id: 'local.e30.AAAA' },
    });
    expect(new URL(String(forged.headers.location)).pathname).toBe('/payment/fail');
    // A genuine val_id for another amount does not validate either (the HMAC covers the amount).
    const [prefix, , sig] = forms.Pay!.fields.val_id!.split('.');
    const otherClaims = Buffer.from(
      JSON.stringify({ t: booking.payment.transactionId, a: 1, c: 'BDT' }),
    ).toString('base64url');
    await submit({
      ...forms.Pay!,
      fields: { ...forms.Pay!.fields, val_id: `${prefix}.${otherClaims}.${sig}` },
    });
    expect((await bookingState(t.ctx, booking._id)).payment.status).toBe('UNPAID');

    const cancelled = await submit(forms.Cancel!);
    const to = new URL(String(cancelled.headers.location));
    expect(to.pathname).toBe('/payment/cancel');
    expect(to.searchParams.get('message')).toMatch(
      /^Payment Cancelled: no money was taken\. Your seats stay held/,
    );
    const state = await bookingState(t.ctx, booking._id);
    expect(state.booking).toMatchObject({ status: 'PENDING', seatsHeld: true });
    expect(state.payment.status).toBe('UNPAID');
    // Changed their mind: the same page still pays.
    const paid = await submit(formsOf((await openPaymentPage(paymentUrl)).body).Pay!);
    expect(new URL(String(paid.headers.location)).searchParams.get('message')).toBe(
      'Payment Completed Successfully',
    );
    expect((await bookingState(t.ctx, booking._id)).booking.status).toBe('COMPLETE');
  });

  it('fail and cancel callbacks change nothing without the signature of the page they came from', async () => {
    const owner = await createUser(t.ctx);
    const { paymentUrl, booking } = await book(owner);
    const tranId = booking.payment.transactionId;
    const forms = formsOf((await openPaymentPage(paymentUrl)).body);
    const forgeries = [
      { action: forms.Cancel!.action, fields: { tran_id: tranId, status: 'CANCELLED' } },
      { action: forms.Fail!.action, fields: { tran_id: tranId, status: 'FAILED', signature: 'AAAA' } },
      // A genuine signature only counts for the button it was made for.
      { action: forms.Cancel!.action, fields: forms.Fail!.fields },
      { action: `/api/v1/payment/cancel?transactionId=${tranId}`, fields: {} },
    ];
    for (const forged of forgeries) {
      const res = await submit(forged);
      expect(res.statusCode).toBe(302);
      const to = new URL(String(res.headers.location));
      expect(to.pathname).toBe(new URL(forged.action, 'http://x').pathname.replace('/api/v1', ''));
    }
    const state = await bookingState(t.ctx, booking._id);
    expect(state.booking).toMatchObject({ status: 'PENDING', seatsHeld: true });
    expect(state.payment.status).toBe('UNPAID');

    const failed = await submit(forms.Fail!);
    expect(new URL(String(failed.headers.location)).pathname).toBe('/payment/fail');
    const after = await bookingState(t.ctx, booking._id);
    expect(after.booking).toMatchObject({ status: 'PENDING', seatsHeld: true });
    expect(after.payment.status).toBe('UNPAID');
    // Only the page's own button is recorded as a failed attempt.
    const outcomes = (
      await t.ctx.db.select().from(paymentEvents).where(eq(paymentEvents.paymentId, booking.payment._id))
    ).map((e) => e.outcome);
    expect(outcomes.filter((o) => o === 'FAIL')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'UNCONFIRMED')).toHaveLength(forgeries.length);
  });

  it('the payment page needs the signed link handed to the owner, not just the transaction id (404)', async () => {
    const owner = await createUser(t.ctx);
    const { paymentUrl, booking } = await book(owner);
    const bare = `/api/v1/payment/local-gateway/${booking.payment.transactionId}`;
    expect((await t.app.inject({ method: 'GET', url: bare })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: `${bare}?signature=AAAA` })).statusCode).toBe(404);
    expect((await openPaymentPage(paymentUrl)).statusCode).toBe(200);
  });

  it('an unknown transaction has no payment page (404)', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/payment/local-gateway/tran_unknown' });
    expect(res.statusCode).toBe(404);
  });
});

describe('the local val_id: bound to its session, counted once, only while the booking can be paid', () => {
  const bookingsOf = async (bookingId: string) => ({
    state: await bookingState(t.ctx, bookingId),
    refunds: await t.ctx.db.select().from(refunds).where(eq(refunds.bookingId, bookingId)),
  });

  async function expectRefused(res: Awaited<ReturnType<typeof submit>>) {
    expect(res.statusCode).toBe(302);
    const to = new URL(String(res.headers.location));
    expect(to.pathname).toBe('/payment/fail');
    expect(to.searchParams.get('message')).toMatch(
      /^Payment not verified: the booking no longer awaits payment/,
    );
  }

  it('a Pay form kept from the page cannot revive a booking its owner cancelled', async () => {
    const owner = await createUser(t.ctx);
    const { paymentUrl, booking } = await book(owner);
    const pay = formsOf((await openPaymentPage(paymentUrl)).body).Pay!;
    const cancel = await t.app.inject({
      method: 'POST',
      url: `/api/v1/booking/${booking._id}/cancel`,
      headers: owner.auth,
      payload: {},
    });
    expect(cancel.statusCode).toBe(200);

    await expectRefused(await submit(pay));
    const { state, refunds: given } = await bookingsOf(booking._id);
    expect(state.booking).toMatchObject({ status: 'CANCEL', seatsHeld: false });
    expect(state.payment.status).toBe('CANCELLED');
    expect(given).toEqual([]);
    // The page no longer offers to pay, and holds no val_id.
    const page = await openPaymentPage(paymentUrl);
    expect(formsOf(page.body)).toEqual({});
    expect(page.body).not.toContain('val_id');
  });

  it('a Pay form kept from the page cannot revive a booking whose hold ran out', async () => {
    const owner = await createUser(t.ctx);
    const { paymentUrl, booking } = await book(owner);
    const pay = formsOf((await openPaymentPage(paymentUrl)).body).Pay!;
    clock.advance(31 * 60_000);
    await expireStaleHolds(t.ctx.db, { closeUnpaid: closeUnpaidPayments }, clock.now());

    await expectRefused(await submit(pay));
    const { state } = await bookingsOf(booking._id);
    expect(state.booking).toMatchObject({ status: 'FAILED', seatsHeld: false });
    expect(state.payment.status).toBe('FAILED');
  });

  it("another session's val_id cannot pay a booking already paid, and a repeat changes nothing", async () => {
    const owner = await createUser(t.ctx);
    const { paymentUrl, booking } = await book(owner);
    const first = formsOf((await openPaymentPage(paymentUrl)).body).Pay!;
    const retry = await t.app.inject({
      method: 'POST',
      url: `/api/v1/payment/init-payment/${booking._id}`,
      headers: owner.auth,
    });
    const second = formsOf((await openPaymentPage(retry.json().data.paymentUrl)).body).Pay!;
    expect(second.fields.val_id).not.toBe(first.fields.val_id);

    const paid = await submit(second);
    expect(new URL(String(paid.headers.location)).searchParams.get('status')).toBe('success');
    await expectRefused(await submit(first));
    // The paid session's val_id again: nothing new, and the payer is told what happened to it.
    const repeat = await submit(second);
    expect(new URL(String(repeat.headers.location)).searchParams.get('message')).toBe(
      'Payment Completed Successfully',
    );
    const { state, refunds: given } = await bookingsOf(booking._id);
    expect(state.booking.status).toBe('COMPLETE');
    expect(state.payment).toMatchObject({ status: 'PAID', valId: second.fields.val_id });
    expect(given).toEqual([]);
  });
});

describe('POST /payment/init-payment/:bookingId', () => {
  const init = (bookingId: string, user?: TestUser) =>
    t.app.inject({
      method: 'POST',
      url: `/api/v1/payment/init-payment/${bookingId}`,
      headers: user?.auth ?? {},
    });

  it('gives the owner a new payment session for a pending booking (201)', async () => {
    const owner = await createUser(t.ctx);
    const { booking, paymentUrl } = await book(owner);
    const res = await init(booking._id, owner);
    expect(res.statusCode).toBe(201);
    // A session of its own: another transaction id, its own signed page.
    const next = new URL(res.json().data.paymentUrl);
    const tranId = decodeURIComponent(next.pathname.split('/').at(-1)!);
    expect(tranId).toMatch(/^tran_[0-9a-f]{32}$/);
    expect(tranId).not.toBe(booking.payment.transactionId);
    expect(next.toString()).not.toBe(paymentUrl);
    const page = await openPaymentPage(next.toString());
    expect(formsOf(page.body).Pay!.fields.tran_id).toBe(tranId);
  });

  it('401 without a token, 404 for another user, 400 for a malformed id', async () => {
    const owner = await createUser(t.ctx);
    const { booking } = await book(owner);
    expect((await init(booking._id)).statusCode).toBe(401);
    expect((await init(booking._id, await createUser(t.ctx))).statusCode).toBe(404);
    expect((await init(booking._id, await createUser(t.ctx, { role: 'ADMIN' }))).statusCode).toBe(404);
    const bad = await init('abc', owner);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errorSources[0].path).toBe('bookingId');
  });

  it('409 for a paid booking and for an expired hold', async () => {
    const owner = await createUser(t.ctx);
    const paid = await book(owner);
    const page = await openPaymentPage(paid.paymentUrl);
    await submit(formsOf(page.body).Pay!);
    expect((await init(paid.booking._id, owner)).statusCode).toBe(409);

    const pending = await book(owner);
    await t.ctx.db
      .update(bookings)
      .set({ holdExpiresAt: new Date(clock.now().getTime() - 1000) })
      .where(eq(bookings.id, pending.booking._id));
    const res = await init(pending.booking._id, owner);
    expect(res.statusCode).toBe(409);
    expect(res.json().message).toMatch(/expired/);
  });
});

describe('GET /payment/invoice/:paymentId', () => {
  it('409 while the payment is unpaid, 400 for a malformed id, 401 without a token', async () => {
    const owner = await createUser(t.ctx);
    const { booking } = await book(owner);
    const unpaid = await t.app.inject({
      method: 'GET',
      url: `/api/v1/payment/invoice/${booking.payment._id}`,
      headers: owner.auth,
    });
    expect(unpaid.statusCode).toBe(409);
    const bad = await t.app.inject({
      method: 'GET',
      url: '/api/v1/payment/invoice/xyz',
      headers: owner.auth,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errorSources[0].path).toBe('paymentId');
    const anonymous = await t.app.inject({
      method: 'GET',
      url: `/api/v1/payment/invoice/${booking.payment._id}`,
    });
    expect(anonymous.statusCode).toBe(401);
  });
});
