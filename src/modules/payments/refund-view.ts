import { REFUND_STATUSES, refunds } from '../../db/schema/index.js';
import type { ListSpec } from '../../lib/list-query.js';
import { toMajor } from '../../lib/money.js';
import type { RefundView } from '../bookings/payment-port.js';
import type { RefundRow } from './refund-repo.js';

/** A refund as the API shows it, and how the admin list filters and sorts them. */

export function toRefundView(row: RefundRow): RefundView {
  return {
    _id: row.id,
    booking: row.bookingId,
    payment: row.paymentId,
    amount: toMajor(row.amountMinor),
    currency: row.currency,
    status: row.status,
    reason: row.reason,
    requestedBy: row.requestedBy,
    gatewayRefundId: row.gatewayRefundId,
    failureReason: row.failureReason,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export const REFUND_LIST: ListSpec = {
  searchable: [],
  filters: {
    status: { column: refunds.status, kind: { enum: REFUND_STATUSES } },
    booking: { column: refunds.bookingId, kind: 'id' },
  },
  sortable: { createdAt: refunds.createdAt, updatedAt: refunds.updatedAt, amount: refunds.amountMinor },
  tieBreaker: refunds.id,
  projectable: [],
};
