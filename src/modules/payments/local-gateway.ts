import type { GatewaySessionRequest, GatewayVerdict, PaymentGateway } from './gateway.js';
import { deriveKey, sign, verifySignature } from './signing.js';

/**
 * The built-in gateway for offline runs: the payment page is served by this app and "paying" there
 * produces a `val_id` that only this server can mint (an HMAC over transaction, amount and currency), so
 * validation is stateless and a forged `val_id` is rejected like SSLCommerz would reject it.
 */
export interface LocalGateway extends PaymentGateway {
  readonly name: 'local';
  /** The `val_id` the payment page hands back when the payer clicks Pay. */
  mintValId(tranId: string, amountMinor: number, currency: string): string;
}

export const isLocalGateway = (gateway: PaymentGateway): gateway is LocalGateway =>
  gateway.name === 'local' && typeof (gateway as Partial<LocalGateway>).mintValId === 'function';

export function createLocalGateway(options: { publicUrl: string; secret: string }): LocalGateway {
  const key = deriveKey(options.secret, 'local-gateway');

  function mintValId(tranId: string, amountMinor: number, currency: string): string {
    const claims = Buffer.from(JSON.stringify({ t: tranId, a: amountMinor, c: currency })).toString(
      'base64url',
    );
    return `local.${claims}.${sign(key, claims)}`;
  }

  return {
    name: 'local',
    mintValId,
    async createSession(request: GatewaySessionRequest) {
      return {
        paymentUrl: `${options.publicUrl}/api/v1/payment/local-gateway/${encodeURIComponent(request.transactionId)}`,
      };
    },
    async validate(valId: string): Promise<GatewayVerdict> {
      const invalid: GatewayVerdict = {
        status: 'INVALID_TRANSACTION',
        tranId: '',
        amount: Number.NaN,
        currency: '',
        valId,
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
        return { status: 'VALID', tranId: t, amount: a, currency: c, valId, raw };
      } catch {
        return invalid;
      }
    },
  };
}
