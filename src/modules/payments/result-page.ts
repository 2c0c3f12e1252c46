import type { Outcome } from './outcome.js';
import { details, escapeHtml, renderPage } from './pages.js';

export type { RedirectKind } from './outcome.js';

export interface ResultPageInput {
  /** What happened to the payment, as recorded; undefined when the link names no payment this server has. */
  outcome?: Outcome;
  paymentStatus?: string;
  transactionId?: string;
  tourTitle?: string;
  amount?: string;
}

const NEXT_STEP: Record<Outcome['tone'], string> = {
  ok: 'Your booking is confirmed; the invoice is on its way by email.',
  wait: 'We will email you as soon as anything changes.',
  bad: '',
};

/**
 * Where the payer lands after the gateway when no front end is configured. Everything on it comes from this
 * server's records: nothing of the link it was opened with is repeated (a crafted link cannot make it say
 * anything), and a link naming no known payment shows only that.
 */
export function renderResultPage(input: ResultPageInput): string {
  const { outcome } = input;
  if (!outcome) {
    return renderPage(
      'Payment not found',
      `<h1 class="bad">Payment not found</h1>
<p>This server has no payment for this link.</p>
<p><small>You can close this page.</small></p>`,
    );
  }
  const next = NEXT_STEP[outcome.tone];
  return renderPage(
    outcome.headline,
    `<h1 class="${outcome.tone}">${escapeHtml(outcome.headline)}</h1>
<p>${escapeHtml(outcome.message)}.</p>
${details([
  ['Tour', input.tourTitle],
  ['Amount', input.amount],
  ['Status', input.paymentStatus],
  ['Transaction', input.transactionId, true],
])}
<p><small>${next ? `${escapeHtml(next)} ` : ''}You can close this page.</small></p>`,
  );
}
