import { z } from 'zod';
import { successSchema } from '../../lib/envelope.js';
import { idParam } from '../bookings/schemas.js';

export const bookingIdParams = z.object({ bookingId: idParam('bookingId') });
export const paymentIdParams = z.object({ paymentId: idParam('paymentId') });
export const transactionParams = z.object({
  transactionId: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[\x21-\x7e]+$/, 'transactionId must be printable ASCII without spaces'),
});
export const localGatewayQuery = z.object({ signature: z.string().max(200).optional() });

const field = z.string().max(1000).optional();

/** SSLCommerz posts many more fields; only these are read, and none is trusted. */
export const callbackBody = z
  .object({ tran_id: field, val_id: field, amount: field, currency: field, status: field, signature: field })
  .loose()
  // A legacy caller may POST with the query string only (no body at all).
  .nullish();
export const callbackQuery = z.object({ transactionId: field }).loose();

export const downloadQuery = z.object({
  expires: z.coerce.number().int(),
  signature: z.string().min(1).max(200),
});

/** The result pages: which return URL, and what the redirect carried (only the transaction id is read). */
export const resultParams = z.object({ kind: z.enum(['success', 'fail', 'cancel']) });
export const resultQuery = z
  .object({
    transactionId: z.string().max(100).optional(),
    message: z.string().max(300).optional(),
    amount: z.string().max(30).optional(),
    status: z.string().max(30).optional(),
  })
  .loose();

export const paymentUrlResponse = successSchema(z.object({ paymentUrl: z.string() }));
export const invoiceUrlResponse = successSchema(z.string());
export const ipnResponse = successSchema(z.null());
