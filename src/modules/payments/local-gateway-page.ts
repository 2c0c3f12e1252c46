import { formatMoney } from './invoice.js';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export interface LocalGatewayPageInput {
  transactionId: string;
  amountMinor: number;
  currency: string;
  tourTitle: string;
  guestCount: number;
  /** Set when the payment can no longer be paid (shown instead of the buttons). */
  status?: string;
  valId: string;
  /** What the Fail and Cancel buttons post as `signature`: proof that they came from this page. */
  abortSignatures: { fail: string; cancel: string };
}

/**
 * The local gateway's payment page. Its forms post to the same callbacks SSLCommerz uses, with the same
 * field names, so the offline flow exercises the real verification path.
 */
export function renderLocalGatewayPage(input: LocalGatewayPageInput): string {
  const tran = escapeHtml(input.transactionId);
  const query = `?transactionId=${encodeURIComponent(input.transactionId)}`;
  const hidden = (fields: Record<string, string>) =>
    Object.entries(fields)
      .map(([k, v]) => `<input type="hidden" name="${k}" value="${escapeHtml(v)}">`)
      .join('');
  const amount = (input.amountMinor / 100).toFixed(2);
  const actions = input.status
    ? `<p class="note">This payment cannot be made: it is ${escapeHtml(input.status)}.</p>`
    : `<form method="post" action="/api/v1/payment/success${query}">${hidden({
        tran_id: input.transactionId,
        val_id: input.valId,
        amount,
        currency: input.currency,
        status: 'VALID',
      })}<button class="pay" type="submit">Pay ${escapeHtml(formatMoney(input.amountMinor, input.currency))}</button></form>
      <form method="post" action="/api/v1/payment/fail${query}">${hidden({ tran_id: input.transactionId, status: 'FAILED', signature: input.abortSignatures.fail })}<button type="submit">Fail</button></form>
      <form method="post" action="/api/v1/payment/cancel${query}">${hidden({ tran_id: input.transactionId, status: 'CANCELLED', signature: input.abortSignatures.cancel })}<button type="submit">Cancel</button></form>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Local payment gateway</title>
<style>
body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#222}
.card{border:1px solid #ddd;border-radius:8px;padding:1.5rem}
dl{display:grid;grid-template-columns:auto 1fr;gap:.4rem 1rem}dt{color:#666}
form{display:inline-block;margin:1rem .5rem 0 0}button{font-size:1rem;padding:.6rem 1.2rem;cursor:pointer}
.pay{background:#1a7f37;color:#fff;border:0;border-radius:4px}.note{color:#a40e26}
small{color:#666}
</style>
</head>
<body>
<div class="card">
<h1>Local payment gateway</h1>
<p><small>Built-in test gateway: no money moves. Configure SSLCommerz for real payments.</small></p>
<dl>
<dt>Tour</dt><dd>${escapeHtml(input.tourTitle)}</dd>
<dt>Guests</dt><dd>${input.guestCount}</dd>
<dt>Amount</dt><dd>${escapeHtml(formatMoney(input.amountMinor, input.currency))}</dd>
<dt>Transaction</dt><dd><code>${tran}</code></dd>
</dl>
${actions}
</div>
</body>
</html>`;
}
