import PDFDocument from 'pdfkit';
import type { Database, Executor } from '../../db/client.js';
import { enqueueEmail, releaseHeldEmail } from '../../lib/mail/outbox.js';
import { emailLayout, escapeHtml } from '../../lib/mail/templates.js';
import { toMajor } from '../../lib/money.js';
import type { Storage } from '../../lib/storage/storage.js';
import { findPaymentContext, type PaymentContext, setInvoiceKey } from './repo.js';
import { wasReceived } from './state.js';

export const invoiceStorageKey = (paymentId: string) => `invoices/${paymentId}.pdf`;
export const invoiceEmailKey = (paymentId: string) => `invoice:${paymentId}`;

const amountFormat = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
export const formatMoney = (minor: number, currency: string) =>
  `${currency} ${amountFormat.format(toMajor(minor))}`;

const dateFormat = (d: Date) => d.toISOString().slice(0, 10);

export function renderInvoicePdf(p: PaymentContext): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ size: 'A4', margin: 50, info: { Title: `Invoice ${p.transactionId}` } });
    const chunks: Buffer[] = [];
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);

    doc.fontSize(24).text('Invoice', { align: 'center' }).moveDown(1.5);
    doc.fontSize(12);
    const line = (label: string, value: string) => {
      doc.font('Helvetica-Bold').text(`${label}: `, { continued: true }).font('Helvetica').text(value);
      doc.moveDown(0.4);
    };
    line('Transaction ID', p.transactionId);
    line('Booking date', dateFormat(p.bookingCreatedAt));
    if (p.paidAt) line('Paid on', dateFormat(p.paidAt));
    line('Customer', `${p.userName} <${p.userEmail}>`);
    if (p.userPhone) line('Phone', p.userPhone);
    if (p.userAddress) line('Address', p.userAddress);
    line('Tour', p.tourTitle);
    line('Guests', String(p.guestCount));
    line('Unit price', formatMoney(p.unitPriceMinor, p.currency));
    doc.moveDown(0.5);
    line('Total paid', formatMoney(p.amountMinor, p.currency));
    doc
      .moveDown(2)
      .font('Helvetica')
      .fontSize(11)
      .text('Thank you for booking with us.', { align: 'center' });
    doc.end();
  });
}

/** The invoice email: queued in the transaction that marks the payment PAID, at most once per payment. */
export function invoiceEmail(p: PaymentContext) {
  const total = formatMoney(p.amountMinor, p.currency);
  const text = [
    `Dear ${p.userName},`,
    '',
    `Thank you for your payment. Your booking for "${p.tourTitle}" is confirmed.`,
    `Transaction ID: ${p.transactionId}`,
    `Guests: ${p.guestCount}`,
    `Amount paid: ${total}`,
    '',
    'Your invoice is attached.',
  ].join('\n');
  const row = (label: string, value: string) =>
    `<tr><td style="color:#666;padding:4px 16px 4px 0">${label}</td><td style="padding:4px 0">${escapeHtml(value)}</td></tr>`;
  const html = emailLayout(
    'Your Booking Invoice',
    `<p>Dear ${escapeHtml(p.userName)},</p>
<p>Thank you for your payment. Your booking for <strong>${escapeHtml(p.tourTitle)}</strong> is confirmed.</p>
<table style="border-collapse:collapse;margin:16px 0">${row('Transaction ID', p.transactionId)}${row('Guests', String(p.guestCount))}${row('Amount paid', total)}</table>
<p>Your invoice is attached as a PDF.</p>`,
    'You receive this email because a booking was paid with this address.',
  );
  return {
    template: 'invoice',
    to: p.userEmail,
    subject: 'Your Booking Invoice',
    text,
    html,
    attachments: [
      { filename: 'invoice.pdf', contentType: 'application/pdf', storageKey: invoiceStorageKey(p.paymentId) },
    ],
    dedupeKey: invoiceEmailKey(p.paymentId),
  };
}

/** How long a queued invoice email waits for its PDF before the sender tries anyway (and retries). */
export const INVOICE_EMAIL_GRACE_MS = 10 * 60_000;

/**
 * Queues the invoice email of a payment whose booking just became COMPLETE, in the caller's transaction; it
 * waits for its PDF (`ensureInvoice` releases it) at most INVOICE_EMAIL_GRACE_MS.
 */
export async function queueInvoiceEmail(tx: Executor, payment: PaymentContext, now: Date) {
  await enqueueEmail(tx, invoiceEmail(payment), {
    notBefore: new Date(now.getTime() + INVOICE_EMAIL_GRACE_MS),
  });
}

/**
 * Makes sure a paid payment's invoice PDF is in storage (generating it outside any transaction), then lets
 * its queued email go. Returns the PDF, or undefined when the payment was never paid.
 */
export async function ensureInvoiceFor(
  db: Database,
  storage: Storage,
  payment: PaymentContext,
  now: Date,
): Promise<Buffer | undefined> {
  if (!wasReceived(payment.paymentStatus)) return undefined;
  const key = invoiceStorageKey(payment.paymentId);
  let pdf = await storage.get(key);
  if (!pdf) {
    pdf = await renderInvoicePdf(payment);
    await storage.put(key, pdf, 'application/pdf');
  }
  if (payment.invoiceKey !== key) await setInvoiceKey(db, payment.paymentId, key);
  await releaseHeldEmail(db, invoiceEmailKey(payment.paymentId), now);
  return pdf;
}

/** `ensureInvoiceFor` by id, for work that has only the id (the housekeeping job, an approval). */
export async function ensureInvoice(
  db: Database,
  storage: Storage,
  paymentId: string,
  now: Date,
): Promise<Buffer | undefined> {
  const payment = await findPaymentContext(db, { paymentId });
  return payment && ensureInvoiceFor(db, storage, payment, now);
}
