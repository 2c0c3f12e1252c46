import { formatMoney } from './invoice.js';
import { details, escapeHtml, renderPage } from './pages.js';

export interface LocalGatewayPageInput {
  transactionId: string;
  amountMinor: number;
  currency: string;
  tourTitle: string;
  guestCount: number;
  /**
   * While the booking can be paid: the `val_id` the Pay button posts and what the Fail and Cancel buttons
   * post as `signature` (proof that they came from this page). Otherwise why it cannot be paid (shown
   * instead of the buttons).
   */
  payment:
    | { valId: string; abortSignatures: { fail: string; cancel: string } }
    | { status: string; valId?: undefined };
}

/**
 * The local gateway's payment page. Its forms post to the same callbacks SSLCommerz uses, with the same
 * field names, so the offline flow exercises the real verification path.
 */
export function renderLocalGatewayPage(input: LocalGatewayPageInput): string {
  const query = `?transactionId=${encodeURIComponent(input.transactionId)}`;
  const hidden = (fields: Record<string, string>) =>
    Object.entries(fields)
      .map(([k, v]) => `<input type="hidden" name="${k}" value="${escapeHtml(v)}">`)
      .join('');
  const amount = (input.amountMinor / 100).toFixed(2);
  const { payment } = input;
  const actions = !('abortSignatures' in payment)
    ? `<p class="note">This payment cannot be made: it is ${escapeHtml(payment.status)}.</p>`
    : `<form method="post" action="/api/v1/payment/success${query}">${hidden({
        tran_id: input.transactionId,
        val_id: payment.valId,
        amount,
        currency: input.currency,
        status: 'VALID',
      })}<button class="pay" type="submit">Pay ${escapeHtml(formatMoney(input.amountMinor, input.currency))}</button></form>
      <form method="post" action="/api/v1/payment/fail${query}">${hidden({ tran_id: input.transactionId, status: 'FAILED', signature: payment.abortSignatures.fail })}<button type="submit">Fail</button></form>
      <form method="post" action="/api/v1/payment/cancel${query}">${hidden({ tran_id: input.transactionId, status: 'CANCELLED', signature: payment.abortSignatures.cancel })}<button type="submit">Cancel</button></form>`;
  return renderPage(
    'Local payment gateway',
    `<h1>Local payment gateway</h1>
<p><small>Built-in test gateway: no money moves. Configure SSLCommerz for real payments.</small></p>
${details([
  ['Tour', input.tourTitle],
  ['Guests', String(input.guestCount)],
  ['Amount', formatMoney(input.amountMinor, input.currency)],
  ['Transaction', input.transactionId, true],
])}
${actions}`,
  );
}
