import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { GatewayRefundRequest, PaymentGateway } from '../../src/modules/payments/gateway.js';
import { createGateway } from '../../src/modules/payments/gateway-choice.js';
import { TEST_ENV } from '../helpers/app.js';
import { type FakeSslCommerz, startFakeSslCommerz } from '../helpers/fake-sslcommerz.js';

let fake: FakeSslCommerz;
let gateway: PaymentGateway;
const local = createGateway(loadConfig({ ...TEST_ENV, DATA_DIR: 'unused' }));

beforeAll(async () => {
  fake = await startFakeSslCommerz();
  gateway = createGateway(
    loadConfig({ ...TEST_ENV, ...fake.env, DATA_DIR: 'unused', GATEWAY_TIMEOUT_MS: '1500' }),
  );
  expect(gateway.name).toBe('sslcommerz');
});
afterAll(() => fake?.close());
beforeEach(() => {
  fake.setRefundPlan({});
  fake.failNextRefundCalls(0);
});

/** A payment of `amountMinor` made and validated through the fake: what a refund starts from. */
async function paidPayment(amountMinor: number) {
  const transactionId = `tran_${randomBytes(6).toString('hex')}`;
  await gateway.createSession({
    transactionId,
    amountMinor,
    currency: 'BDT',
    productName: 'Sundarbans Boat Safari',
    customer: { name: 'Rahim', email: 'rahim@example.com', phone: '01700000000', address: 'Dhaka' },
  });
  const verdict = await gateway.validate(fake.issueValId(transactionId));
  expect(verdict.status).toBe('VALID');
  return { transactionId, bankTranId: verdict.bankTranId };
}

/** Refunds the fake made against one payment. */
const refundsMade = (payment: { bankTranId?: string }) =>
  fake.refunds.filter((r) => r.bankTranId === payment.bankTranId);

const refundOf = (
  payment: { transactionId: string; bankTranId?: string },
  amountMinor: number,
  extra: Partial<GatewayRefundRequest> = {},
): GatewayRefundRequest => ({
  bankTranId: payment.bankTranId,
  transactionId: payment.transactionId,
  amountMinor,
  currency: 'BDT',
  refundRef: `refund-${randomBytes(4).toString('hex')}`,
  remarks: 'Cancelled by the traveller',
  ...extra,
});

describe('SSLCommerz refunds', () => {
  it('validation hands back the bank_tran_id that refunds are made against', async () => {
    const payment = await paidPayment(120_025);
    expect(payment.bankTranId).toMatch(/^[0-9A-F]{12}$/);
  });

  it('a refund is initiated as PROCESSING and queried until SSLCommerz reports it refunded', async () => {
    const payment = await paidPayment(300_000);
    fake.setRefundPlan({ processingQueries: 2 });
    const request = refundOf(payment, 150_050, { remarks: 'Departure cancelled' });

    const initiated = await gateway.refund(request);
    expect(initiated.status).toBe('PROCESSING');
    expect(initiated.gatewayRefundId).toBeTruthy();
    expect(refundsMade(payment)).toHaveLength(1);
    const sent = fake.refundRequests.at(-1)!;
    expect(Object.fromEntries(sent)).toMatchObject({
      bank_tran_id: payment.bankTranId,
      refund_amount: '1500.50',
      refund_remarks: 'Departure cancelled',
      refe_id: request.refundRef,
      refund_trans_id: request.refundRef,
      store_id: fake.env.SSL_STORE_ID,
      format: 'json',
    });

    const query = { gatewayRefundId: initiated.gatewayRefundId!, refundRef: request.refundRef };
    expect(await gateway.refundStatus(query)).toEqual({
      status: 'PROCESSING',
      gatewayRefundId: query.gatewayRefundId,
    });
    expect(await gateway.refundStatus(query)).toEqual({
      status: 'PROCESSING',
      gatewayRefundId: query.gatewayRefundId,
    });
    expect(await gateway.refundStatus(query)).toEqual({
      status: 'REFUNDED',
      gatewayRefundId: query.gatewayRefundId,
    });
    expect(Object.fromEntries(fake.refundRequests.at(-1)!)).toMatchObject({
      refund_ref_id: query.gatewayRefundId,
      store_id: fake.env.SSL_STORE_ID,
      format: 'json',
    });
    // Querying made no second refund.
    expect(refundsMade(payment)).toHaveLength(1);
  });

  it('amounts go out in major units with exactly two decimals', async () => {
    const payment = await paidPayment(1_000_000);
    for (const [minor, text] of [
      [150_050, '1500.50'],
      [150_000, '1500.00'],
      [5, '0.05'],
      [99, '0.99'],
      [123_456_789, '1234567.89'],
    ] as const) {
      const big = minor > 1_000_000 ? await paidPayment(minor) : payment;
      await gateway.refund(refundOf(big, minor));
      expect(fake.refundRequests.at(-1)!.get('refund_amount'), `${minor}`).toBe(text);
    }
  });

  it("SSLCommerz's refusal comes back as FAILED with its reason", async () => {
    const payment = await paidPayment(100_000);
    expect(await gateway.refund(refundOf(payment, 100_001))).toEqual({
      status: 'FAILED',
      reason: 'Refund amount exceeds the refundable amount',
    });
    expect(await gateway.refund(refundOf({ ...payment, bankTranId: 'NOSUCHTRAN' }, 1_000))).toMatchObject({
      status: 'FAILED',
      reason: 'Invalid bank_tran_id',
    });
    expect(refundsMade(payment)).toHaveLength(0);
  });

  it('a refund SSLCommerz cancels after accepting it ends FAILED with its reason', async () => {
    const payment = await paidPayment(50_000);
    fake.setRefundPlan({ processingQueries: 1, ending: { cancelled: 'Card account closed' } });
    const request = refundOf(payment, 50_000);
    const initiated = await gateway.refund(request);
    const query = { gatewayRefundId: initiated.gatewayRefundId!, refundRef: request.refundRef };
    expect((await gateway.refundStatus(query)).status).toBe('PROCESSING');
    expect(await gateway.refundStatus(query)).toEqual({
      status: 'FAILED',
      gatewayRefundId: query.gatewayRefundId,
      reason: 'Card account closed',
    });
  });

  it('a refund of no money, negative or fractional minor units is refused without asking SSLCommerz', async () => {
    const payment = await paidPayment(10_000);
    const before = fake.refundRequests.length;
    for (const amount of [0, -100, 10.5]) {
      const answer = await gateway.refund(refundOf(payment, amount));
      expect(answer.status, `${amount}`).toBe('FAILED');
      expect(answer.reason).toMatch(/amount/);
      expect((await local.refund(refundOf(payment, amount))).status, `${amount}`).toBe('FAILED');
    }
    expect(fake.refundRequests).toHaveLength(before);
  });

  it('a payment without a bank_tran_id is not sent to SSLCommerz', async () => {
    const before = fake.refundRequests.length;
    const answer = await gateway.refund(refundOf({ transactionId: 'tran_old' }, 1_000));
    expect(answer.status).toBe('FAILED');
    expect(answer.reason).toMatch(/bank transaction id/);
    expect(fake.refundRequests).toHaveLength(before);
  });

  it('an unreachable or failing refund API rejects, so the caller retries; nothing was refunded', async () => {
    const payment = await paidPayment(80_000);
    const request = refundOf(payment, 80_000);
    fake.failNextRefundCalls(1, 'down');
    await expect(gateway.refund(request)).rejects.toThrow(/unreachable/);
    fake.failNextRefundCalls(1, 'error');
    await expect(gateway.refund(request)).rejects.toThrow(/HTTP 500/);
    expect(refundsMade(payment)).toHaveLength(0);

    // The retry with the same reference goes through.
    const initiated = await gateway.refund(request);
    expect(initiated.status).toBe('PROCESSING');
    expect(refundsMade(payment)).toHaveLength(1);

    const query = { gatewayRefundId: initiated.gatewayRefundId!, refundRef: request.refundRef };
    fake.failNextRefundCalls(1, 'down');
    await expect(gateway.refundStatus(query)).rejects.toThrow(/unreachable/);
    expect((await gateway.refundStatus(query)).status).toBe('REFUNDED');
  });

  it('initiating again with the same reference names the same refund instead of refunding twice', async () => {
    const payment = await paidPayment(70_000);
    const request = refundOf(payment, 70_000);
    const first = await gateway.refund(request);
    const again = await gateway.refund(request);
    expect(again).toEqual({ status: 'PROCESSING', gatewayRefundId: first.gatewayRefundId });
    expect(refundsMade(payment)).toHaveLength(1);
    // Another reference is another refund (here refused: the payment is refunded in full already).
    expect((await gateway.refund(refundOf(payment, 70_000))).status).toBe('FAILED');
    expect(refundsMade(payment)).toHaveLength(1);
  });

  it('a refund query SSLCommerz refuses rejects rather than calling the refund failed', async () => {
    await expect(
      gateway.refundStatus({ gatewayRefundId: 'RFUNKNOWN', refundRef: 'refund-x' }),
    ).rejects.toThrow(/APIConnect INVALID_REQUEST/);
  });

  it('wrong store credentials come back as FAILED, naming the refusal', async () => {
    const misconfigured = createGateway(
      loadConfig({ ...TEST_ENV, ...fake.env, SSL_STORE_PASS: 'wrong-pass', DATA_DIR: 'unused' }),
    );
    const payment = await paidPayment(10_000);
    expect(await misconfigured.refund(refundOf(payment, 10_000))).toEqual({
      status: 'FAILED',
      reason: 'Store credential mismatch',
    });
  });
});

describe('local gateway refunds', () => {
  it('refunds at once, and asking again for the same refund names the same refund', async () => {
    expect(local.name).toBe('local');
    const request = refundOf({ transactionId: 'tran_local' }, 99_999, { refundRef: 'refund-local-1' });
    const first = await local.refund(request);
    expect(first.status).toBe('REFUNDED');
    expect(first.gatewayRefundId).toMatch(/^local-refund\./);
    expect(await local.refund(request)).toEqual(first);
    expect(
      await local.refundStatus({ gatewayRefundId: first.gatewayRefundId!, refundRef: 'refund-local-1' }),
    ).toEqual(first);
    expect(
      (await local.refundStatus({ gatewayRefundId: first.gatewayRefundId!, refundRef: 'refund-local-2' }))
        .status,
    ).toBe('FAILED');
  });
});
