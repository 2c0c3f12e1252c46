import { and, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import {
  bookings,
  type PaymentStatus,
  paymentEvents,
  paymentSessions,
  payments,
  tours,
  users,
} from '../../db/schema/index.js';
import { newId } from '../../lib/ids.js';
import type { GatewayVerdict } from './gateway.js';
import { PAID, paymentStatusesBefore } from './state.js';

/** The payment with this transaction id of its own, or of one of its gateway sessions. */
const hasTransactionId = (transactionId: string) =>
  or(
    eq(payments.transactionId, transactionId),
    eq(
      payments.id,
      sql`(select ${paymentSessions.paymentId} from ${paymentSessions} where ${paymentSessions.transactionId} = ${transactionId})`,
    ),
  );

/** The payment a gateway callback names (by any of its sessions), before anything is checked with the gateway. */
export async function findPaymentByTransactionId(db: Executor, transactionId: string) {
  const [row] = await db.select().from(payments).where(hasTransactionId(transactionId));
  return row;
}

/**
 * The transaction id for a new gateway session of a payment: its own for the first session, `fresh` for
 * every later one. Recorded before the gateway is asked, so two sessions never share an id.
 */
export async function claimSessionTransactionId(
  db: Executor,
  payment: { id: string; transactionId: string },
  fresh: string,
): Promise<string> {
  const first = await db
    .insert(paymentSessions)
    .values({ paymentId: payment.id, transactionId: payment.transactionId })
    .onConflictDoNothing()
    .returning({ transactionId: paymentSessions.transactionId });
  if (first.length > 0) return payment.transactionId;
  await db.insert(paymentSessions).values({ paymentId: payment.id, transactionId: fresh });
  return fresh;
}

/** A recorded gateway event by its key (e.g. `validated:<val_id>`), if any. */
export async function findPaymentEvent(db: Executor, eventKey: string) {
  const [row] = await db.select().from(paymentEvents).where(eq(paymentEvents.eventKey, eventKey));
  return row;
}
export type PaymentRow = NonNullable<Awaited<ReturnType<typeof findPaymentByTransactionId>>>;

const contextColumns = {
  paymentId: payments.id,
  transactionId: payments.transactionId,
  paymentStatus: payments.status,
  amountMinor: payments.amountMinor,
  refundedMinor: payments.refundedMinor,
  currency: payments.currency,
  invoiceKey: payments.invoiceKey,
  paidAt: payments.paidAt,
  bookingId: bookings.id,
  bookingStatus: bookings.status,
  bookingCreatedAt: bookings.createdAt,
  holdExpiresAt: bookings.holdExpiresAt,
  guestCount: bookings.guestCount,
  unitPriceMinor: bookings.unitPriceMinor,
  tourId: bookings.tourId,
  departureId: bookings.departureId,
  seatsHeld: bookings.seatsHeld,
  userId: users.id,
  userName: users.name,
  userEmail: users.email,
  userPhone: users.phone,
  userAddress: users.address,
  tourTitle: tours.title,
};

type PaymentKey = { paymentId: string } | { transactionId: string } | { bookingId: string };

const byKey = (key: PaymentKey) =>
  'paymentId' in key
    ? eq(payments.id, key.paymentId)
    : 'transactionId' in key
      ? hasTransactionId(key.transactionId)
      : eq(payments.bookingId, key.bookingId);

function selectPaymentContext(db: Executor, key: PaymentKey) {
  return db
    .select(contextColumns)
    .from(payments)
    .innerJoin(bookings, eq(bookings.id, payments.bookingId))
    .innerJoin(users, eq(users.id, bookings.userId))
    .innerJoin(tours, eq(tours.id, bookings.tourId))
    .where(byKey(key));
}

/** A payment with its booking and what invoices, emails, ownership checks and the payment page need. */
export async function findPaymentContext(db: Executor, key: PaymentKey) {
  const [row] = await selectPaymentContext(db, key);
  return row;
}
export type PaymentContext = NonNullable<Awaited<ReturnType<typeof findPaymentContext>>>;

/**
 * The same, with the booking and the payment locked until the transaction ends: a settlement's one read.
 * FOR UPDATE OF locks in the order listed, booking first, the order every writer uses, so none deadlock;
 * both are locked so that, after waiting for a lock, both rows are read as the previous holder left them.
 */
export async function lockPaymentContext(
  tx: Executor,
  paymentId: string,
): Promise<PaymentContext | undefined> {
  const [row] = await selectPaymentContext(tx, { paymentId }).for('update', { of: [bookings, payments] });
  return row;
}

export async function insertPayment(tx: Executor, values: typeof payments.$inferInsert) {
  const [row] = await tx.insert(payments).values(values).returning();
  return row!;
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

/** Marks a payment PAID with the gateway's verdict; undefined when the state machine refuses the move. */
export async function markPaymentPaid(tx: Executor, paymentId: string, verdict: GatewayVerdict, now: Date) {
  const [moved] = await tx
    .update(payments)
    .set({
      status: PAID,
      gatewayData: verdict.raw,
      gatewayStatus: verdict.status,
      valId: verdict.valId,
      bankTranId: verdict.bankTranId ?? null,
      paidAt: now,
    })
    .where(and(eq(payments.id, paymentId), inArray(payments.status, paymentStatusesBefore(PAID))))
    .returning({ paymentStatus: payments.status, paidAt: payments.paidAt });
  return moved;
}

/** Moves the payments of the given bookings to `to`, each only from a status the state machine allows before it. */
export async function movePaymentsOfBookings(tx: Executor, bookingIds: string[], to: PaymentStatus) {
  if (bookingIds.length === 0) return;
  await tx
    .update(payments)
    .set({ status: to })
    .where(and(inArray(payments.bookingId, bookingIds), inArray(payments.status, paymentStatusesBefore(to))));
}

export async function setInvoiceKey(db: Executor, paymentId: string, key: string) {
  await db.update(payments).set({ invoiceKey: key }).where(eq(payments.id, paymentId));
}

/** Paid payments whose invoice PDF was never stored (e.g. the process stopped right after the payment). */
export async function paidWithoutInvoice(db: Executor, limit: number) {
  const rows = await db
    .select({ id: payments.id })
    .from(payments)
    .where(and(eq(payments.status, PAID), isNull(payments.invoiceKey)))
    .limit(limit);
  return rows.map((r) => r.id);
}
