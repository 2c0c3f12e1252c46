import { Writable } from 'node:stream';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { emailOutbox, refunds } from '../../src/db/schema/index.js';
import type { DomainEvent } from '../../src/lib/domain-events.js';
import type { PaymentGateway } from '../../src/modules/payments/gateway.js';
import { buildTestApp, TEST_ENV, type TestApp } from '../helpers/app.js';
import { bookingState, createTour, movableClock } from '../helpers/booking-fixtures.js';
import { createUser, type TestUser } from '../helpers/factories.js';
import { type FakeSslCommerz, startFakeSslCommerz } from '../helpers/fake-sslcommerz.js';
import { jobWorker, refundJobs, refundRow } from '../helpers/refund-worker.js';

/*
 * Refunds carried out by the job queue's worker against a fake SSLCommerz: retries when the gateway cannot be
 * reached, polls while it processes, FAILED refunds an operator retries, and never a second refund at the
 * gateway, whether cancels race or a worker dies halfway.
 */

type LogEntry = Record<string, unknown> & { event?: DomainEvent };
const lines: LogEntry[] = [];
const capture = new Writable({
  write(chunk, _encoding, done) {
    for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
    done();
  },
});
const events = (name: DomainEvent, refundId: string) =>
  lines.filter((l) => l.event === name && l.refundId === refundId);

/** REFUND_POLL_SECONDS's default: no refund waits longer than this between two asks. */
const REFUND_POLL_SECONDS = 900;

const clock = movableClock();
const later = (seconds: number) => {
  clock.advance(seconds * 1000);
  return clock.now();
};
let t: TestApp;
let fake: FakeSslCommerz;
let admin: TestUser;
let runJobs: ReturnType<typeof jobWorker>;

beforeAll(async () => {
  fake = await startFakeSslCommerz();
  t = await buildTestApp({
    clock,
    logger: { level: 'info', stream: capture },
    // The clock moves hours ahead while refunds are polled; the test users' tokens outlast it.
    env: { ...fake.env, GATEWAY_TIMEOUT_MS: '1500', JWT_ACCESS_EXPIRES: '30d' },
  });
  admin = await createUser(t.ctx, { role: 'ADMIN' });
  runJobs = jobWorker(t.app);
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});
beforeEach(() => {
  fake.setRefundPlan({});
  fake.failNextRefundCalls(0);
});

/** A booking paid through the fake SSLCommerz (2 guests at 1200.25), starting in 30 days. */
async function paidBooking() {
  const user = await createUser(t.ctx);
  const tour = await createTour(t.ctx, {
    costFrom: 1200.25,
    maxGuest: 10,
    startDate: new Date(clock.now().getTime() + 30 * 24 * 3600_000),
  });
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/booking',
    headers: user.auth,
    payload: { tour: tour.id, guestCount: 2 },
  });
  expect(res.statusCode).toBe(201);
  const booking = res.json().data.booking;
  const transactionId = booking.payment.transactionId as string;
  const back = await t.app.inject({
    method: 'POST',
    url: `/api/v1/payment/success?transactionId=${transactionId}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({
      tran_id: transactionId,
      val_id: fake.issueValId(transactionId),
    }).toString(),
  });
  expect(back.statusCode).toBe(302);
  const state = await bookingState(t.ctx, booking._id);
  expect(state.booking.status).toBe('COMPLETE');
  return {
    user,
    bookingId: booking._id as string,
    paymentId: state.payment.id,
    bankTranId: state.payment.bankTranId!,
  };
}

async function cancelled() {
  const b = await paidBooking();
  const res = await t.app.inject({
    method: 'POST',
    url: `/api/v1/booking/${b.bookingId}/cancel`,
    headers: b.user.auth,
    payload: { reason: 'Family emergency' },
  });
  expect(res.statusCode).toBe(200);
  return { ...b, refundId: res.json().data.refund._id as string };
}

const refundsAtGateway = (bankTranId: string) => fake.refunds.filter((r) => r.bankTranId === bankTranId);
const mails = async (email: string, template: string) =>
  (await t.ctx.db.select().from(emailOutbox).where(eq(emailOutbox.to, email))).filter(
    (m) => m.template === template,
  );

describe('the refund worker', () => {
  it('initiates the refund with the payment bank_tran_id, then polls while SSLCommerz processes it', async () => {
    const b = await cancelled();
    expect(events('refund.issued', b.refundId)).toHaveLength(1);
    fake.setRefundPlan({ processingQueries: 2 });

    expect(await runJobs(clock.now())).toMatchObject({ claimed: 1, rescheduled: 1 });
    const [sent] = refundsAtGateway(b.bankTranId);
    expect(sent).toMatchObject({ amount: '2400.50', refundTransId: b.refundId, remarks: 'Family emergency' });
    const processing = await refundRow(t.ctx, b.refundId);
    expect(processing).toMatchObject({ status: 'PROCESSING', gatewayRefundId: sent!.refundRefId });

    // Asked again within a minute of SSLCommerz accepting it (processing), then backing off: the next ask is
    // not due a minute later, but is within the longest interval; then it is refunded.
    expect(await runJobs(later(60))).toMatchObject({ claimed: 1, rescheduled: 1 });
    expect(await runJobs(later(30))).toMatchObject({ claimed: 0 });
    expect(await runJobs(later(30))).toMatchObject({ claimed: 1, rescheduled: 1 });
    expect((await refundRow(t.ctx, b.refundId)).status).toBe('PROCESSING');
    expect(await runJobs(later(60))).toMatchObject({ claimed: 0 });
    expect(await runJobs(later(REFUND_POLL_SECONDS))).toMatchObject({ done: 1 });

    const state = await bookingState(t.ctx, b.bookingId);
    expect(state.payment).toMatchObject({ status: 'REFUNDED', refundedMinor: 240_050 });
    expect((await refundRow(t.ctx, b.refundId)).status).toBe('REFUNDED');
    expect(refundsAtGateway(b.bankTranId)).toHaveLength(1);
    expect(await mails(b.user.email, 'refund-issued')).toHaveLength(1);
    const completed = await mails(b.user.email, 'refund-completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]!.text).toContain('BDT 2,400.50');
    expect(events('refund.completed', b.refundId)).toHaveLength(1);
  });

  it('retries with backoff while the gateway cannot be reached, then completes', async () => {
    const b = await cancelled();
    fake.failNextRefundCalls(2, 'down');
    expect(await runJobs(clock.now())).toMatchObject({ failed: 1 });
    expect(await runJobs(clock.now())).toMatchObject({ claimed: 0 });
    expect(await runJobs(later(15))).toMatchObject({ failed: 1 });
    expect(refundsAtGateway(b.bankTranId)).toHaveLength(0);
    expect(await runJobs(later(30))).toMatchObject({ rescheduled: 1 });
    expect(await runJobs(later(REFUND_POLL_SECONDS))).toMatchObject({ done: 1 });

    const booking = await t.app.inject({
      method: 'GET',
      url: `/api/v1/booking/${b.bookingId}`,
      headers: b.user.auth,
    });
    expect(booking.json().data.payment).toMatchObject({ status: 'REFUNDED', refundedAmount: 2400.5 });
    expect(refundsAtGateway(b.bankTranId)).toHaveLength(1);
    const [job] = await refundJobs(t.ctx, b.refundId);
    expect(job).toMatchObject({ status: 'DONE', attempts: 2 });
  });

  it('a refund the gateway could not be reached for on any of its tries is FAILED for an operator', async () => {
    const b = await cancelled();
    fake.failNextRefundCalls(100, 'error');
    let summary = await runJobs(clock.now());
    for (let run = 1; run < 10; run++) summary = await runJobs(later(3600));
    fake.failNextRefundCalls(0);
    expect(summary).toMatchObject({ claimed: 1, done: 1 });
    const failed = await refundRow(t.ctx, b.refundId);
    expect(failed.status).toBe('FAILED');
    expect(failed.failureReason).toMatch(/could not be reached after 10 tries.*HTTP 500/);
    expect(await mails(b.user.email, 'refund-failed')).toHaveLength(1);
    expect(refundsAtGateway(b.bankTranId)).toHaveLength(0);
  });

  it('a worker that died after initiating makes no second refund when another takes over', async () => {
    const b = await cancelled();
    // This instance's gateway reaches SSLCommerz, then never comes back with the answer.
    let letDyingWorkerGo!: () => void;
    const stuck = new Promise<void>((resolve) => {
      letDyingWorkerGo = resolve;
    });
    const real = t.ctx.gateway;
    const dying: PaymentGateway = {
      ...real,
      name: real.name,
      async refund(request) {
        const answer = await real.refund(request);
        await stuck;
        return answer;
      },
    };
    const first = jobWorker(t.app, { gateway: dying })(clock.now(), { leaseSeconds: 60 });
    while (refundsAtGateway(b.bankTranId).length === 0) await new Promise((r) => setTimeout(r, 10));
    expect((await refundRow(t.ctx, b.refundId)).gatewayRefundId).toBeNull();

    // Its lease runs out; another instance's worker takes the job over.
    expect(await runJobs(later(61), { leaseSeconds: 60 })).toMatchObject({ claimed: 1, rescheduled: 1 });
    expect(await runJobs(later(REFUND_POLL_SECONDS))).toMatchObject({ done: 1 });
    expect(refundsAtGateway(b.bankTranId)).toHaveLength(1);
    expect((await refundRow(t.ctx, b.refundId)).status).toBe('REFUNDED');

    // The dead worker wakes up: its outcome is not recorded and nothing changes.
    letDyingWorkerGo();
    expect(await first).toMatchObject({ lost: 1 });
    expect((await refundRow(t.ctx, b.refundId)).status).toBe('REFUNDED');
    expect(refundsAtGateway(b.bankTranId)).toHaveLength(1);
    expect(events('refund.completed', b.refundId)).toHaveLength(1);
    expect(await mails(b.user.email, 'refund-completed')).toHaveLength(1);
  });

  it('a refund SSLCommerz fails is FAILED with its reason and mailed; an admin retries it and it completes', async () => {
    const b = await cancelled();
    fake.setRefundPlan({ processingQueries: 0, ending: { cancelled: 'Card account closed' } });
    await runJobs(clock.now());
    expect(await runJobs(later(REFUND_POLL_SECONDS))).toMatchObject({ done: 1 });
    const failed = await refundRow(t.ctx, b.refundId);
    expect(failed).toMatchObject({ status: 'FAILED', failureReason: 'Card account closed' });
    const mailed = await mails(b.user.email, 'refund-failed');
    expect(mailed).toHaveLength(1);
    expect(mailed[0]!.text).toMatch(/try the refund again/);
    expect(events('refund.failed', b.refundId)).toHaveLength(1);

    const listed = await t.app.inject({
      method: 'GET',
      url: '/api/v1/refunds?status=FAILED',
      headers: admin.auth,
    });
    expect(listed.statusCode).toBe(200);
    expect(listed.json().data.data.map((r: { _id: string }) => r._id)).toContain(b.refundId);

    fake.setRefundPlan({});
    const retry = (user: TestUser) =>
      t.app.inject({ method: 'POST', url: `/api/v1/refunds/${b.refundId}/retry`, headers: user.auth });
    expect((await retry(b.user)).statusCode).toBe(403);
    const retried = await retry(admin);
    expect(retried.statusCode).toBe(200);
    expect(retried.json().data).toMatchObject({
      status: 'REQUESTED',
      failureReason: null,
      gatewayRefundId: null,
    });
    expect((await retry(admin)).statusCode).toBe(409);

    await runJobs(clock.now());
    expect(await runJobs(later(REFUND_POLL_SECONDS))).toMatchObject({ done: 1 });
    expect((await refundRow(t.ctx, b.refundId)).status).toBe('REFUNDED');
    // The cancelled refund and the new one, under a new reference: money went back once.
    const atGateway = refundsAtGateway(b.bankTranId);
    expect(atGateway.map((r) => r.status)).toEqual(['cancelled', 'refunded']);
    expect(atGateway[1]!.refundTransId).not.toBe(atGateway[0]!.refundTransId);
    expect((await bookingState(t.ctx, b.bookingId)).payment.status).toBe('REFUNDED');
    expect((await retry(admin)).statusCode).toBe(409);
  });

  it('a refund the gateway refuses outright is FAILED at once, with the reason', async () => {
    const b = await paidBooking();
    // The payment no longer has the bank transaction SSLCommerz knows it by.
    await t.ctx.db.transaction(async (tx) => {
      const { payments } = await import('../../src/db/schema/index.js');
      await tx.update(payments).set({ bankTranId: 'UNKNOWNTRAN' }).where(eq(payments.id, b.paymentId));
    });
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/booking/${b.bookingId}/cancel`,
      headers: b.user.auth,
    });
    const refundId = res.json().data.refund._id;
    expect(await runJobs(clock.now())).toMatchObject({ done: 1 });
    expect(await refundRow(t.ctx, refundId)).toMatchObject({
      status: 'FAILED',
      failureReason: 'Invalid bank_tran_id',
    });
    expect((await bookingState(t.ctx, b.bookingId)).payment).toMatchObject({
      status: 'PAID',
      refundedMinor: 0,
    });
  });

  it('ten parallel cancels of one paid booking make one refund record and one refund at the gateway', async () => {
    const b = await paidBooking();
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        t.app.inject({ method: 'POST', url: `/api/v1/booking/${b.bookingId}/cancel`, headers: b.user.auth }),
      ),
    );
    expect(answers.filter((r) => r.statusCode === 200)).toHaveLength(1);
    expect(answers.filter((r) => r.statusCode === 409)).toHaveLength(9);
    const rows = await t.ctx.db.select().from(refunds).where(eq(refunds.bookingId, b.bookingId));
    expect(rows).toHaveLength(1);
    // Two workers racing for the job: one refund at the gateway.
    await Promise.all([runJobs(clock.now()), runJobs(clock.now())]);
    await runJobs(later(REFUND_POLL_SECONDS));
    expect(refundsAtGateway(b.bankTranId)).toHaveLength(1);
    expect((await refundRow(t.ctx, rows[0]!.id)).status).toBe('REFUNDED');
  });
});

describe('REFUND_POLL_SECONDS', () => {
  it('caps the wait between asks about a refund the gateway is processing', async () => {
    const quick = await buildTestApp({
      clock,
      env: { ...fake.env, GATEWAY_TIMEOUT_MS: '1500', JWT_ACCESS_EXPIRES: '30d', REFUND_POLL_SECONDS: '30' },
    });
    try {
      const user = await createUser(quick.ctx);
      const tour = await createTour(quick.ctx, {
        startDate: new Date(clock.now().getTime() + 30 * 24 * 3600_000),
      });
      const booked = await quick.app.inject({
        method: 'POST',
        url: '/api/v1/booking',
        headers: user.auth,
        payload: { tour: tour.id, guestCount: 1 },
      });
      const { _id: bookingId, payment } = booked.json().data.booking;
      await quick.app.inject({
        method: 'POST',
        url: `/api/v1/payment/success?transactionId=${payment.transactionId}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({
          tran_id: payment.transactionId,
          val_id: fake.issueValId(payment.transactionId),
        }).toString(),
      });
      const cancel = await quick.app.inject({
        method: 'POST',
        url: `/api/v1/booking/${bookingId}/cancel`,
        headers: user.auth,
      });
      const refundId = cancel.json().data.refund._id;
      fake.setRefundPlan({ processingQueries: 5 });
      const run = jobWorker(quick.app);
      expect(await run(clock.now())).toMatchObject({ rescheduled: 1 });
      // With the default, the asks after the second would wait 80 s, 160 s, ...; here never more than 30 s.
      for (let ask = 1; ask <= 5; ask++) {
        expect(await run(later(30)), `ask ${ask}`).toMatchObject({ claimed: 1, rescheduled: 1 });
      }
      expect(await run(later(30))).toMatchObject({ done: 1 });
      expect((await refundRow(quick.ctx, refundId)).status).toBe('REFUNDED');
    } finally {
      await quick.close();
    }
  });

  it('is a positive number of seconds; anything else stops the start naming it', () => {
    const env = { ...TEST_ENV, DATA_DIR: '/nonexistent' };
    expect(loadConfig(env).refundPollSeconds).toBe(900);
    expect(loadConfig({ ...env, REFUND_POLL_SECONDS: '60' }).refundPollSeconds).toBe(60);
    for (const bad of ['0', '-5', 'soon', '1.5']) {
      expect(() => loadConfig({ ...env, REFUND_POLL_SECONDS: bad }), bad).toThrow(/REFUND_POLL_SECONDS/);
    }
  });
});

describe('the refund cap counts refunds in flight', () => {
  /** A refund of part of the payment already on its way at the gateway (written as the worker leaves one). */
  async function inFlight(
    b: Awaited<ReturnType<typeof paidBooking>>,
    amountMinor: number,
    status = 'PROCESSING',
  ) {
    const [row] = await t.ctx.db
      .insert(refunds)
      .values({
        bookingId: b.bookingId,
        paymentId: b.paymentId,
        amountMinor,
        currency: 'BDT',
        reason: 'goodwill',
        refundRef: `ref-${b.paymentId}-${amountMinor}`,
        status: status as 'PROCESSING',
      })
      .returning();
    return row!;
  }

  it('an admin cannot refund more than is left once refunds on their way are counted; nothing is written', async () => {
    const b = await paidBooking();
    await inFlight(b, 150_000);
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/v1/booking/${b.bookingId}/cancel`,
      headers: admin.auth,
      payload: { reason: 'Operator decision', refundAmount: 2400.5 },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errorSources[0].path).toBe('refundAmount');
    expect(res.json().message).toMatch(/900\.5/);
    const state = await bookingState(t.ctx, b.bookingId);
    expect(state.booking).toMatchObject({ status: 'COMPLETE', seatsHeld: true });
    expect(await t.ctx.db.select().from(refunds).where(eq(refunds.bookingId, b.bookingId))).toHaveLength(1);

    // What the policy gives is capped by what is left: the rest of the payment, and the gateway is made whole.
    const owner = await t.app.inject({
      method: 'POST',
      url: `/api/v1/booking/${b.bookingId}/cancel`,
      headers: b.user.auth,
    });
    expect(owner.statusCode).toBe(200);
    expect(owner.json().data.refund).toMatchObject({ amount: 900.5, status: 'REQUESTED' });
  });

  it('a FAILED refund cannot be retried once other refunds took what was left (409)', async () => {
    const b = await paidBooking();
    const failed = await inFlight(b, 240_050, 'FAILED');
    const owner = await t.app.inject({
      method: 'POST',
      url: `/api/v1/booking/${b.bookingId}/cancel`,
      headers: b.user.auth,
    });
    expect(owner.json().data.refund).toMatchObject({ amount: 2400.5 });
    const retry = await t.app.inject({
      method: 'POST',
      url: `/api/v1/refunds/${failed.id}/retry`,
      headers: admin.auth,
    });
    expect(retry.statusCode).toBe(409);
    expect(retry.json().message).toMatch(/only 0 BDT of the payment is left/);
    expect((await refundRow(t.ctx, failed.id)).status).toBe('FAILED');
  });
});
