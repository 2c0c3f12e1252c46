import { deriveKey, sign, verifySignature } from './signing.js';

const LINK_LIFETIME_SECONDS = 15 * 60;

/**
 * Short-lived signed download links for invoice PDFs: the PDF is never a public file, and the link works
 * in a plain browser tab (no Authorization header needed) for a few minutes only.
 */
export function createInvoiceLinks(options: { secret: string; publicUrl: string }) {
  const key = deriveKey(options.secret, 'invoice-download');
  return {
    url(paymentId: string, now: Date): string {
      const expires = Math.floor(now.getTime() / 1000) + LINK_LIFETIME_SECONDS;
      const signature = sign(key, `${paymentId}.${expires}`);
      return `${options.publicUrl}/api/v1/payment/invoice/${paymentId}/download?expires=${expires}&signature=${signature}`;
    },
    verify(paymentId: string, expires: number, signature: string, now: Date): boolean {
      if (!Number.isSafeInteger(expires) || expires * 1000 < now.getTime()) return false;
      return verifySignature(key, `${paymentId}.${expires}`, signature);
    },
  };
}

export type InvoiceLinks = ReturnType<typeof createInvoiceLinks>;
