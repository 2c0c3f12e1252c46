import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { bookings, emailOutbox, paymentEvents, payments, tours, users } from '../../db/schema/index.js';
import { newId } from '../../lib/ids.js';
import type { GatewayVerdict } from './gateway.js';
import { paymentStatusesBefore } from './state.js';

export async function findPaymentByTransactionId(db: Executor, transactionId: string) {
  const [row] = await db.select().from(payments).where(eq(payments.transactionId, transactionId));
  return row;
}

/** A payment with what invoices, ownership checks and the payment page need. */
export async function findPaymentContext(
  db: Executor,
  where: { paymentId: string } | { transactionId: string },
) {
  const [row] = await db
    .select({
      paymentId: payments.id,
      transactionId: payments.transactionId,
      paymentStatus: payments.status,
      amountMinor: payments.amountMinor,
      currency: payments.currency,
      invoiceKey: payments.invoiceKey,
      paidAt: payments.paidAt,
      bookingId: bookings.id,
      bookingStatus: bookings.status,
      bookingCreatedAt: bookings.createdAt,
      holdExpiresAt: bookings.holdExpiresAt,
      guestCount: bookings.guestCount,
      unitPriceMinor: bookings.unitPriceMinor,
      userId: users.id,
      userName: users.name,
      userEmail: users.email,
      userPhone: users.phone,
      userAddress: users.address,
      tourTitle: tours.title,
    })
    .from(payments)
    .innerJoin(bookings, eq(bookings.id, payments.bookingId))
    .innerJoin(users, eq(users.id, bookings.userId))
    .innerJoin(tours, eq(tours.id, bookings.tourId))
    .where(
      'paymentId' in where
        ? eq(payments.id, where.paymentId)
        : eq(payments.transactionId, where.transactionId),
    );
  return row;
}
export type PaymentContext = NonNullable<Awaited<ReturnType<typeof findPaymentContext>>>;

export async function findBookingWithPayment(db: Executor, bookingId: string) {
  const [row] = await db
    .select({ booking: bookings, payment: payments })
    .from(bookings)
    .leftJoin(payments, eq(payments.bookingId, bookings.id))
    .where(eq(bookings.id, bookingId));
  return row;
}

/**
 * Records a gateway event; false when an event with this key was already recorded (a repeat). Rejected
 * attempts get a unique key each, so every forged or invalid callback leaves a trace.
 */
export async function recordPaymentEvent(
  tx: Executor,
  event: {
    paymentId: string | null;
    eventKey?: string;
    kind: string;
    outcome: string;
    payload: Record<string, unknown>;
  },
): Promise<boolean> {
  const inserted = await tx
    .insert(paymentEvents)
    .values({
      paymentId: event.paymentId,
      eventKey: event.eventKey ?? `${event.kind}:${event.outcome}:${newId()}`,
      kind: event.kind,
      outcome: event.outcome,
      payload: event.payload,
    })
    .onConflictDoNothing()
    .returning({ id: paymentEvents.id });
  return inserted.length > 0;
}

export async function markPaymentPaid(tx: Executor, paymentId: string, verdict: GatewayVerdict, now: Date) {
  const moved = await tx
    .update(payments)
    .set({
      status: 'PAID',
      gatewayData: verdict.raw,
      gatewayStatus: verdict.status,
      valId: verdict.valId,
      paidAt: now,
    })
    .where(and(eq(payments.id, paymentId), inArray(payments.status, paymentStatusesBefore('PAID'))))
    .returning({ id: payments.id });
  return moved.length > 0;
}

export async function setInvoiceKey(db: Executor, paymentId: string, key: string) {
  await db.update(payments).set({ invoiceKey: key }).where(eq(payments.id, paymentId));
}

/** Paid payments whose invoice PDF was never stored (e.g. the process stopped right after the payment). */
export async function paidWithoutInvoice(db: Executor, limit: number) {
  const rows = await db
    .select({ id: payments.id })
    .from(payments)
    .where(and(eq(payments.status, 'PAID'), isNull(payments.invoiceKey)))
    .limit(limit);
  return rows.map((r) => r.id);
}

/** Holds a queued email back until `until` (it must not go out before its attachment exists). */
export async function deferEmail(tx: Executor, dedupeKey: string, until: Date) {
  await tx
    .update(emailOutbox)
    .set({ nextAttemptAt: until })
    .where(and(eq(emailOutbox.dedupeKey, dedupeKey), eq(emailOutbox.status, 'PENDING')));
}
