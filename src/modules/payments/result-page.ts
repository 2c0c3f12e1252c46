import { details, escapeHtml, renderPage } from './pages.js';

/** Where a payer's browser is sent back to after the gateway. */
export type RedirectKind = 'success' | 'fail' | 'cancel';

export interface ResultPageInput {
  /** Which return URL the payer came back through. */
  kind: RedirectKind;
  /** The payment's status on record; undefined when the redirect named no transaction or an unknown one. */
  paymentStatus?: string;
  /** The redirect named a transaction this server does not know. */
  unknownTransaction?: boolean;
  /** As the redirect carried it: shown, never trusted for the headline. */
  message?: string;
  transactionId?: string;
  tourTitle?: string;
  amount?: string;
}

const HEADLINES: Record<string, [headline: string, tone: 'ok' | 'bad' | 'wait']> = {
  PAID: ['Payment complete', 'ok'],
  REFUNDED: ['Payment refunded', 'ok'],
  FAILED: ['Payment failed', 'bad'],
  CANCELLED: ['Payment cancelled', 'bad'],
  success: ['Payment being verified', 'wait'],
  fail: ['Payment failed', 'bad'],
  cancel: ['Payment cancelled', 'bad'],
};

/**
 * Where the payer lands after the gateway when no front end is configured. The headline comes from the
 * payment on record (a crafted link cannot show "complete" for an unpaid payment); an unpaid payment that
 * came back through the success URL is shown as being verified.
 */
export function renderResultPage(input: ResultPageInput): string {
  const [headline, tone] = input.unknownTransaction
    ? (['Payment not found', 'bad'] as const)
    : (input.paymentStatus && input.paymentStatus !== 'UNPAID' && HEADLINES[input.paymentStatus]) ||
      HEADLINES[input.kind]!;
  const next =
    tone === 'ok'
      ? 'Your booking is confirmed; the invoice is on its way by email.'
      : tone === 'wait'
        ? 'The booking is confirmed as soon as the payment gateway confirms the payment.'
        : input.unknownTransaction
          ? 'This server has no payment with this transaction id.'
          : 'No money was taken for this booking.';
  return renderPage(
    headline,
    `<h1 class="${tone}">${escapeHtml(headline)}</h1>
${input.message ? `<p>${escapeHtml(input.message)}</p>` : ''}
${details([
  ['Tour', input.tourTitle],
  ['Amount', input.amount],
  ['Status', input.paymentStatus],
  ['Transaction', input.transactionId, true],
])}
<p><small>${next} You can close this page.</small></p>`,
  );
}
