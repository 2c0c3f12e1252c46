import { randomBytes } from 'node:crypto';
import type { Executor } from '../../db/client.js';
import type { PaymentSessionSubject } from '../bookings/payment-port.js';
import { type PaymentGateway, withGatewayTimeout } from './gateway.js';
import { claimSessionTransactionId, type PaymentContext } from './repo.js';

/** Unguessable: 128 random bits (the legacy `tran_<ms>_<0-999>` could be guessed and confirmed for free). */
export const newTransactionId = () => `tran_${randomBytes(16).toString('hex')}`;

/**
 * Opens a gateway session for a payment, bounded by the gateway timeout: the one place that does, for a new
 * booking and for a retry. The first session of a payment uses the payment's own transaction id (the one
 * clients were given); each later one gets a fresh id, recorded before the gateway is asked, so two sessions
 * (two tabs, a retry after a failed attempt) never share one and a second payment is recognised as such.
 * Rejects when the gateway fails or times out; callers say what that means.
 */
export async function openPaymentSession(
  db: Executor,
  gateway: PaymentGateway,
  timeoutMs: number,
  { payment, customer, tourTitle }: PaymentSessionSubject,
): Promise<{ paymentUrl: string }> {
  const transactionId = await claimSessionTransactionId(db, payment, newTransactionId());
  return withGatewayTimeout(
    gateway.createSession({
      transactionId,
      amountMinor: payment.amountMinor,
      currency: payment.currency,
      customer: {
        name: customer.name,
        email: customer.email,
        phone: customer.phone ?? '',
        address: customer.address ?? '',
      },
      productName: tourTitle,
    }),
    timeoutMs,
  );
}

/** The session subject of a payment read with its context. */
export const sessionSubjectOf = (p: PaymentContext): PaymentSessionSubject => ({
  payment: {
    id: p.paymentId,
    transactionId: p.transactionId,
    amountMinor: p.amountMinor,
    currency: p.currency,
  },
  customer: { name: p.userName, email: p.userEmail, phone: p.userPhone, address: p.userAddress },
  tourTitle: p.tourTitle,
});
