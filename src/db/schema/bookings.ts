import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { type CancellationPolicy, tours } from './catalogue.js';
import { createdAt, id, timestamps, tstz } from './columns.js';
import { departures } from './departures.js';
import { users } from './users.js';

export const BOOKING_STATUSES = ['PENDING', 'COMPLETE', 'CANCEL', 'FAILED'] as const;
export type BookingStatus = (typeof BOOKING_STATUSES)[number];
export const PAYMENT_STATUSES = ['UNPAID', 'PAID', 'FAILED', 'CANCELLED', 'REFUNDED'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];
export const REFUND_STATUSES = ['REQUESTED', 'PROCESSING', 'REFUNDED', 'FAILED'] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

export const bookings = pgTable(
  'bookings',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'restrict' }),
    tourId: uuid('tour_id')
      .notNull()
      .references(() => tours.id, { onDelete: 'restrict' }),
    /** The run of the tour booked; its seats are the ones held. */
    departureId: uuid('departure_id')
      .notNull()
      .references(() => departures.id, { onDelete: 'restrict' }),
    status: text('status').$type<BookingStatus>().notNull().default('PENDING'),
    guestCount: integer('guest_count').notNull(),
    /** Price snapshot at booking time, in minor units. */
    unitPriceMinor: bigint('unit_price_minor', { mode: 'number' }).notNull(),
    amountMinor: bigint('amount_minor', { mode: 'number' }).notNull(),
    currency: text('currency').notNull().default('BDT'),
    /** Seats are held while PENDING until this instant; the sweeper releases them afterwards. */
    holdExpiresAt: tstz('hold_expires_at').notNull(),
    /** True while this booking's seats count in departures.seats_booked (held or sold). */
    seatsHeld: boolean('seats_held').notNull().default(true),
    /** Set when something needs an operator (e.g. a valid payment that arrived after the hold expired). */
    needsReview: text('needs_review'),
    /** The tour's cancellation policy when the booking was paid: a later change of the tour's never applies. */
    cancellationPolicy: jsonb('cancellation_policy').$type<CancellationPolicy>(),
    /** When the departure's guide (or an admin) saw the travellers arrive; set once. */
    checkedInAt: tstz('checked_in_at'),
    checkedInBy: uuid('checked_in_by').references(() => users.id, { onDelete: 'set null' }),
    ...timestamps(),
  },
  (t) => [
    index('bookings_user_id_idx').on(t.userId, t.createdAt),
    index('bookings_tour_id_idx').on(t.tourId),
    index('bookings_departure_id_idx').on(t.departureId),
    index('bookings_status_guests_idx').on(t.status, t.guestCount),
    // Admin statistics: the part of a rolling 7/30-day window before its first whole UTC day (the whole
    // days come from stats_booking_days), without visiting the table.
    index('bookings_created_status_idx').on(t.createdAt, t.status),
    // Only checked-in bookings name a user: the index for the foreign key stays small.
    index('bookings_checked_in_by_idx').on(t.checkedInBy).where(sql`${t.checkedInBy} is not null`),
    index('bookings_pending_hold_idx').on(t.holdExpiresAt).where(sql`${t.status} = 'PENDING'`),
    check('bookings_status_check', sql`${t.status} in ('PENDING','COMPLETE','CANCEL','FAILED')`),
    check('bookings_guest_count_check', sql`${t.guestCount} > 0`),
    check('bookings_amount_check', sql`${t.amountMinor} >= 0 and ${t.unitPriceMinor} >= 0`),
  ],
);

export const payments = pgTable(
  'payments',
  {
    id: id(),
    bookingId: uuid('booking_id')
      .notNull()
      .references(() => bookings.id, { onDelete: 'cascade' }),
    /** Unguessable, unique id sent to the gateway as tran_id. */
    transactionId: text('transaction_id').notNull(),
    status: text('status').$type<PaymentStatus>().notNull().default('UNPAID'),
    amountMinor: bigint('amount_minor', { mode: 'number' }).notNull(),
    currency: text('currency').notNull().default('BDT'),
    gateway: text('gateway').notNull(),
    /** The gateway's validation answer for the payment that made it PAID. */
    gatewayData: jsonb('gateway_data').$type<Record<string, unknown>>(),
    gatewayStatus: text('gateway_status'),
    valId: text('val_id'),
    /** The gateway's own id for the money movement (SSLCommerz `bank_tran_id`): refunds are made against it. */
    bankTranId: text('bank_tran_id'),
    /** Money given back so far by completed refunds, in minor units; the payment is REFUNDED once it is all. */
    refundedMinor: bigint('refunded_minor', { mode: 'number' }).notNull().default(0),
    /** Storage key of the invoice PDF (never a public URL). */
    invoiceKey: text('invoice_key'),
    paidAt: tstz('paid_at'),
    ...timestamps(),
  },
  (t) => [
    uniqueIndex('payments_booking_id_key').on(t.bookingId),
    uniqueIndex('payments_transaction_id_key').on(t.transactionId),
    index('payments_created_at_idx').on(t.createdAt),
    index('payments_paid_at_idx').on(t.paidAt),
    index('payments_stats_idx').on(t.status, t.gatewayStatus, t.amountMinor, t.refundedMinor),
    check('payments_status_check', sql`${t.status} in ('UNPAID','PAID','FAILED','CANCELLED','REFUNDED')`),
    check('payments_amount_check', sql`${t.amountMinor} >= 0`),
    check('payments_refunded_check', sql`${t.refundedMinor} >= 0 and ${t.refundedMinor} <= ${t.amountMinor}`),
  ],
);

/**
 * Money given back for a booking: written in the transaction that cancels it (or that records a payment no
 * booking can take), carried out after commit by the job queue through the payment gateway.
 */
export const refunds = pgTable(
  'refunds',
  {
    id: id(),
    bookingId: uuid('booking_id')
      .notNull()
      .references(() => bookings.id, { onDelete: 'cascade' }),
    paymentId: uuid('payment_id')
      .notNull()
      .references(() => payments.id, { onDelete: 'cascade' }),
    amountMinor: bigint('amount_minor', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    status: text('status').$type<RefundStatus>().notNull().default('REQUESTED'),
    reason: text('reason').notNull(),
    /** Who asked for it; null when the system did (a payment that arrived for a booking it could not confirm). */
    requestedBy: uuid('requested_by').references(() => users.id, { onDelete: 'set null' }),
    /**
     * Our reference sent to the gateway with the refund, so that asking twice names one refund. It changes
     * only when a refund the gateway accepted and then failed is tried again.
     */
    refundRef: text('refund_ref').notNull(),
    gatewayRefundId: text('gateway_refund_id'),
    failureReason: text('failure_reason'),
    /** Tries so far: 1, plus one per operator retry of a FAILED refund. */
    attempts: integer('attempts').notNull().default(1),
    /** Times the gateway was asked about this try while it processed the refund: the next ask backs off. */
    polls: integer('polls').notNull().default(0),
    /**
     * Set on the refund of a second validated payment for an already paid booking (a duplicate): that
     * payment's `val_id`, `bank_tran_id` (the refund is made against it) and the tran_id it came through. It
     * gives back that money whole and never counts toward the booking payment's refunded amount.
     */
    duplicateValId: text('duplicate_val_id'),
    duplicateBankTranId: text('duplicate_bank_tran_id'),
    duplicateTranId: text('duplicate_tran_id'),
    ...timestamps(),
  },
  (t) => [
    // The payment's own refunds are capped by what is left of it (in flight or done); a duplicate has one.
    index('refunds_payment_id_idx').on(t.paymentId),
    uniqueIndex('refunds_duplicate_val_id_key')
      .on(t.duplicateValId)
      .where(sql`${t.duplicateValId} is not null`),
    index('refunds_booking_id_idx').on(t.bookingId),
    index('refunds_requested_by_idx').on(t.requestedBy),
    index('refunds_created_at_idx').on(t.createdAt, t.id),
    index('refunds_status_created_at_idx').on(t.status, t.createdAt),
    check('refunds_status_check', sql`${t.status} in ('REQUESTED','PROCESSING','REFUNDED','FAILED')`),
    check('refunds_amount_check', sql`${t.amountMinor} > 0`),
    check('refunds_attempts_check', sql`${t.attempts} > 0`),
  ],
);

/**
 * Every gateway session opened for a payment: the first uses the payment's own transaction id (the one
 * clients were given), each later one a fresh id, so two sessions never share one and a second payment made
 * through another session is told apart from the first.
 */
export const paymentSessions = pgTable(
  'payment_sessions',
  {
    id: id(),
    paymentId: uuid('payment_id')
      .notNull()
      .references(() => payments.id, { onDelete: 'cascade' }),
    transactionId: text('transaction_id').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('payment_sessions_transaction_id_key').on(t.transactionId),
    index('payment_sessions_payment_id_idx').on(t.paymentId),
  ],
);

/** Every gateway callback/IPN seen, keyed so a repeat is recognised and ignored. */
export const paymentEvents = pgTable(
  'payment_events',
  {
    id: id(),
    paymentId: uuid('payment_id').references(() => payments.id, { onDelete: 'cascade' }),
    eventKey: text('event_key').notNull(),
    kind: text('kind').notNull(),
    outcome: text('outcome').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('payment_events_key').on(t.eventKey),
    index('payment_events_payment_id_idx').on(t.paymentId),
  ],
);

/** Idempotency-Key records for booking creation (per user and key). */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    state: text('state').$type<'IN_PROGRESS' | 'DONE'>().notNull().default('IN_PROGRESS'),
    responseStatus: integer('response_status'),
    responseBody: jsonb('response_body'),
    createdAt: createdAt(),
    expiresAt: tstz('expires_at').notNull(),
  },
  (t) => [
    uniqueIndex('idempotency_keys_user_key').on(t.userId, t.key),
    index('idempotency_keys_expires_idx').on(t.expiresAt),
  ],
);
