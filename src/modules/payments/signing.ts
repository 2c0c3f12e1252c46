import { hmacSha256, safeEqual } from '../../lib/hash.js';

/**
 * Keys for the payment module's signatures, derived from the server's access-token secret with a purpose
 * label: each purpose gets its own key and no new secret has to be configured.
 */
export function deriveKey(serverSecret: string, purpose: 'local-gateway' | 'invoice-download'): string {
  return hmacSha256(serverSecret, `tour-booking:${purpose}`);
}

export const sign = (key: string, value: string): string => hmacSha256(key, value);

export const verifySignature = (key: string, value: string, signature: string): boolean =>
  safeEqual(sign(key, value), signature);
