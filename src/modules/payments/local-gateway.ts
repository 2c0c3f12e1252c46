import {
  type AbortClaim,
  type GatewayRefund,
  type GatewayRefundRequest,
  type GatewaySessionRequest,
  type GatewayVerdict,
  type PaymentGateway,
  refusedRefundAmount,
} from './gateway.js';
import { deriveKey, sign, verifySignature } from './signing.js';

/**
 * The built-in gateway for offline runs: the payment page is served by this app and "paying" there
 * produces a `val_id` that only this server can mint (an HMAC over transaction, amount and currency), so
 * validation is stateless and a forged `val_id` is rejected like SSLCommerz would reject it. The page's
 * link and its Fail and Cancel buttons are signed the same way, so knowing a transaction id is not enough
 * to open the page or to end someone else's booking.
 */
export interface LocalGateway extends PaymentGateway {
  readonly name: 'local';
  /** The `val_id` the payment page hands back when the payer clicks Pay. */
  mintValId(tranId: string, amountMinor: number, currency: string): string;
  /** The `signature` field the page's Fail or Cancel button posts. */
  signAbort(kind: AbortClaim['kind'], tranId: string): string;
  /** Whether `signature` is the one in the payment link handed out for `tranId`. */
  verifyPageLink(tranId: string, signature: string): boolean;
}

export const isLocalGateway = (gateway: PaymentGateway): gateway is LocalGateway =>
  gateway.name === 'local' && typeof (gateway as Partial<LocalGateway>).mintValId === 'function';

export function createLocalGateway(options: { publicUrl: string; secret: string }): LocalGateway {
  const key = deriveKey(options.secret, 'local-gateway');
  // Each signed value names its purpose, so no signature can stand in for another.
  const signAbort = (kind: AbortClaim['kind'], tranId: string) => sign(key, `${kind}:${tranId}`);
  const signPageLink = (tranId: string) => sign(key, `page:${tranId}`);
  // Derived from our own reference, so asking twice for one refund names the same refund.
  const REFUND_PREFIX = 'local-refund.';
  const localRefundId = (refundRef: string) => `${REFUND_PREFIX}${sign(key, `refund:${refundRef}`)}`;
  const isLocalRefundId = (id: string, refundRef: string) =>
    id.startsWith(REFUND_PREFIX) &&
    verifySignature(key, `refund:${refundRef}`, id.slice(REFUND_PREFIX.length));

  function mintValId(tranId: string, amountMinor: number, currency: string): string {
    const claims = Buffer.from(JSON.stringify({ t: tranId, a: amountMinor, c: currency })).toString(
      'base64url',
    );
    return `local.${claims}.${sign(key, claims)}`;
  }

  return {
    name: 'local',
    mintValId,
    signAbort,
    verifyPageLink: (tranId, signature) => verifySignature(key, `page:${tranId}`, signature),
    async createSession(request: GatewaySessionRequest) {
      const page = new URL(
        `${options.publicUrl}/api/v1/payment/local-gateway/${encodeURIComponent(request.transactionId)}`,
      );
      page.searchParams.set('signature', signPageLink(request.transactionId));
      return { paymentUrl: page.toString() };
    },
    async validate(valId: string): Promise<GatewayVerdict> {
      const invalid: GatewayVerdict = {
        status: 'INVALID_TRANSACTION',
        tranId: '',
        amount: Number.NaN,
        currency: '',
        valId,
        risky: false,
        raw: { status: 'INVALID_TRANSACTION' },
      };
      const [prefix, claims, signature] = valId.split('.');
      if (prefix !== 'local' || !claims || !signature || !verifySignature(key, claims, signature))
        return invalid;
      try {
        const { t, a, c } = JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')) as {
          t: string;
          a: number;
          c: string;
        };
        const raw = { status: 'VALID', tran_id: t, amount: a / 100, currency: c, val_id: valId };
        return { status: 'VALID', tranId: t, amount: a, currency: c, valId, risky: false, raw };
      } catch {
        return invalid;
      }
    },
    async confirmsAbort(claim: AbortClaim) {
      const signature = claim.fields.signature;
      return (
        typeof signature === 'string' && verifySignature(key, `${claim.kind}:${claim.tranId}`, signature)
      );
    },
    /** Nothing leaves this server, so a refund is done the moment it is asked for. */
    async refund(request: GatewayRefundRequest): Promise<GatewayRefund> {
      return (
        refusedRefundAmount(request.amountMinor) ?? {
          status: 'REFUNDED',
          gatewayRefundId: localRefundId(request.refundRef),
        }
      );
    },
    async refundStatus(query: { gatewayRefundId: string; refundRef: string }): Promise<GatewayRefund> {
      return isLocalRefundId(query.gatewayRefundId, query.refundRef)
        ? { status: 'REFUNDED', gatewayRefundId: query.gatewayRefundId }
        : { status: 'FAILED', gatewayRefundId: query.gatewayRefundId, reason: 'no such refund' };
    },
  };
}
