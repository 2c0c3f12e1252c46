import { and, eq, inArray, isNull, ne, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { payments, type RefundStatus, refunds } from '../../db/schema/index.js';
import { countAll, type ParsedList } from '../../lib/list-query.js';
import { PAID, paymentStatusesBefore, refundStatusesBefore } from './state.js';

export type RefundRow = typeof refunds.$inferSelect;

export async function insertRefund(tx: Executor, values: typeof refunds.$inferInsert): Promise<RefundRow> {
  const [row] = await tx.insert(refunds).values(values).returning();
  return row!;
}

export async function findRefund(db: Executor, refundId: string): Promise<RefundRow | undefined> {
  const [row] = await db.select().from(refunds).where(eq(refunds.id, refundId));
  return row;
}

/** A refund with what the gateway needs to carry it out: the payment it gives money back from. */
export async function findRefundForGateway(db: Executor, refundId: string) {
  const [row] = await db
    .select({
      refund: refunds,
      // A duplicate payment's refund goes back against that payment's own money movement.
      transactionId: sql<string>`coalesce(${refunds.duplicateTranId}, ${payments.transactionId})`,
      bankTranId: sql<string | null>`coalesce(${refunds.duplicateBankTranId}, ${payments.bankTranId})`,
    })
    .from(refunds)
    .innerJoin(payments, eq(payments.id, refunds.paymentId))
    .where(eq(refunds.id, refundId));
  return row;
}

/**
 * Moves a refund to `to`, only from a status the state machine allows before it (and, with `from`, only from
 * those); undefined when it was not there, so of two workers finishing one refund only one moves it.
 */
export async function moveRefund(
  tx: Executor,
  refundId: string,
  to: RefundStatus,
  changes: Partial<Pick<RefundRow, 'gatewayRefundId' | 'failureReason' | 'refundRef' | 'attempts'>> = {},
  from: RefundStatus[] = refundStatusesBefore(to),
): Promise<RefundRow | undefined> {
  const [row] = await tx
    .update(refunds)
    .set({ status: to, ...changes })
    .where(and(eq(refunds.id, refundId), inArray(refunds.status, from)))
    .returning();
  return row;
}

/**
 * The gateway is still processing the refund: keeps the id it gave (so later runs ask about that refund
 * instead of asking again) and counts the ask; the number of asks so far, or undefined when the refund moved on.
 */
export async function recordPoll(
  db: Executor,
  refundId: string,
  gatewayRefundId: string | null,
): Promise<number | undefined> {
  const [row] = await db
    .update(refunds)
    .set({ gatewayRefundId, polls: sql`${refunds.polls} + 1` })
    .where(and(eq(refunds.id, refundId), eq(refunds.status, 'PROCESSING')))
    .returning({ polls: refunds.polls });
  return row?.polls;
}

/**
 * What the payment's own refunds (not those of duplicate payments) give back or are giving back: completed
 * ones and those in flight, so a new refund is capped before any gateway pays it. Optionally leaving one out.
 */
export async function committedRefundMinor(
  tx: Executor,
  paymentId: string,
  except?: string,
): Promise<number> {
  const [row] = await tx
    .select({ n: sql<string>`coalesce(sum(${refunds.amountMinor}), 0)` })
    .from(refunds)
    .where(
      and(
        eq(refunds.paymentId, paymentId),
        isNull(refunds.duplicateValId),
        ne(refunds.status, 'FAILED'),
        except ? ne(refunds.id, except) : undefined,
      ),
    );
  return Number(row?.n ?? 0);
}

/** The refunds of a payment, oldest first: its own and those of duplicate payments. */
export async function refundsOfPayment(db: Executor, paymentId: string): Promise<RefundRow[]> {
  return db
    .select()
    .from(refunds)
    .where(eq(refunds.paymentId, paymentId))
    .orderBy(refunds.createdAt, refunds.id);
}

/**
 * Adds a completed refund to its payment; once refunds have given back the whole amount, the payment is
 * REFUNDED. The CHECK constraint keeps the refunded amount within what was paid.
 */
export async function addRefunded(tx: Executor, paymentId: string, amountMinor: number): Promise<void> {
  const refunded = sql`${payments.refundedMinor} + ${amountMinor}`;
  await tx
    .update(payments)
    .set({
      refundedMinor: refunded,
      status: sql`case when ${refunded} >= ${payments.amountMinor} and ${payments.status} in ${paymentStatusesBefore('REFUNDED')} then 'REFUNDED' else ${payments.status} end`,
    })
    .where(and(eq(payments.id, paymentId), inArray(payments.status, [PAID, 'REFUNDED'])));
}

export async function selectRefunds(db: Executor, list: ParsedList): Promise<RefundRow[]> {
  return db
    .select()
    .from(refunds)
    .where(list.where)
    .orderBy(...list.orderBy)
    .limit(list.limit)
    .offset(list.offset);
}

export async function countRefunds(db: Executor, list: ParsedList): Promise<number> {
  const [row] = await db.select({ n: countAll }).from(refunds).where(list.where);
  return row?.n ?? 0;
}

/** The refunds of the given bookings, oldest first. */
export async function refundsOfBookings(db: Executor, bookingIds: string[]): Promise<RefundRow[]> {
  if (bookingIds.length === 0) return [];
  return db
    .select()
    .from(refunds)
    .where(inArray(refunds.bookingId, bookingIds))
    .orderBy(refunds.createdAt, refunds.id);
}
