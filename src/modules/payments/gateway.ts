import type { Config } from '../../config.js';
import { createLocalGateway } from './local-gateway.js';
import { createSslCommerzGateway } from './sslcommerz-gateway.js';

export interface GatewayCustomer {
  name: string;
  email: string;
  phone: string;
  address: string;
}

export interface GatewaySessionRequest {
  transactionId: string;
  amountMinor: number;
  currency: string;
  customer: GatewayCustomer;
  productName: string;
}

/** The gateway's own verdict on a payment, fetched server to server (never taken from a callback). */
export interface GatewayVerdict {
  /** As the gateway reports it, e.g. VALID, VALIDATED, INVALID_TRANSACTION. */
  status: string;
  tranId: string;
  /** In minor units; NaN when the gateway's answer was not a well-formed amount. */
  amount: number;
  currency: string;
  valId: string;
  /** The gateway asks the merchant to check this payment before delivering (SSLCommerz `risk_level` 1). */
  risky: boolean;
  raw: Record<string, unknown>;
}

/** A payer's browser came back through the fail or cancel URL: a claim, until the gateway confirms it. */
export interface AbortClaim {
  kind: 'fail' | 'cancel';
  tranId: string;
  fields: Record<string, unknown>;
}

export interface PaymentGateway {
  readonly name: 'sslcommerz' | 'local';
  /** Opens a payment session; rejects on failure or after the configured timeout. */
  createSession(request: GatewaySessionRequest): Promise<{ paymentUrl: string }>;
  /** Asks the gateway about `valId`; rejects only when the gateway cannot be reached. */
  validate(valId: string): Promise<GatewayVerdict>;
  /**
   * True only when the gateway itself confirms that the transaction ended unpaid as claimed; rejects when
   * the gateway cannot be reached.
   */
  confirmsAbort(claim: AbortClaim): Promise<boolean>;
}

export class GatewayError extends Error {
  override name = 'GatewayError';
}

export const VERIFIED_STATUSES = new Set(['VALID', 'VALIDATED']);

/**
 * Bounds any gateway call, whatever the adapter does itself: a hung gateway must not hold a request (or
 * the seats it just held) for long.
 */
export async function withGatewayTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new GatewayError('payment gateway timed out')), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** SSLCommerz when its credentials are configured, otherwise the built-in local gateway. */
export function createGateway(config: Config): PaymentGateway {
  return config.sslcommerz
    ? createSslCommerzGateway({
        ...config.sslcommerz,
        publicUrl: config.publicUrl,
        timeoutMs: config.gatewayTimeoutMs,
      })
    : createLocalGateway({ publicUrl: config.publicUrl, secret: config.jwt.accessSecret });
}

/** Parses a gateway amount such as "1500.00" into minor units; NaN unless it is a plain decimal. */
export function parseGatewayAmount(value: unknown): number {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  if (!/^\d{1,12}(\.\d{1,2})?$/.test(text)) return Number.NaN;
  const [whole, fraction = ''] = text.split('.');
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
}
