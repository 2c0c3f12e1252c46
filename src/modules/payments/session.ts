import type { PaymentSessionSubject } from '../bookings/payment-port.js';
import { type PaymentGateway, withGatewayTimeout } from './gateway.js';
import type { PaymentContext } from './repo.js';

/**
 * Opens a gateway session for a payment, bounded by the gateway timeout: the one place that does, for a new
 * booking and for a retry. Rejects when the gateway fails or times out; callers say what that means.
 */
export function openPaymentSession(
  gateway: PaymentGateway,
  timeoutMs: number,
  { payment, customer, tourTitle }: PaymentSessionSubject,
): Promise<{ paymentUrl: string }> {
  return withGatewayTimeout(
    gateway.createSession({
      transactionId: payment.transactionId,
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
