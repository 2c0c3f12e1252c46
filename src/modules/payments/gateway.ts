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
  /** The gateway's id of the money movement (SSLCommerz `bank_tran_id`), which refunds are made against. */
  bankTranId?: string;
  raw: Record<string, unknown>;
}

export interface GatewayRefundRequest {
  /** The paid payment's `bankTranId` (from its validation); SSLCommerz cannot refund without it. */
  bankTranId?: string;
  /** The payment's transaction id (our tran_id). */
  transactionId: string;
  /** In minor units; at most what is left of the payment. */
  amountMinor: number;
  /** The payment's currency: a refund goes back in the currency that was paid. */
  currency: string;
  /**
   * Our own unique reference for this refund, sent with it (SSLCommerz `refe_id` and `refund_trans_id`), so
   * the gateway can recognise a repeated request; use the refund record's id.
   */
  refundRef: string;
  /** Why, as the gateway records it (shortened to 255 characters). */
  remarks: string;
}

/**
 * Where a refund stands at the gateway: PROCESSING (accepted, money not back yet: ask again with
 * `refundStatus`), REFUNDED, or FAILED with the gateway's `reason` (refused, or cancelled later).
 */
export interface GatewayRefund {
  status: 'PROCESSING' | 'REFUNDED' | 'FAILED';
  /** The gateway's id for the refund (SSLCommerz `refund_ref_id`), which `refundStatus` asks about. */
  gatewayRefundId?: string;
  reason?: string;
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
  /**
   * Asks the gateway to refund (part of) a paid payment. Rejects only when the gateway cannot be reached or
   * answers something unreadable: the caller retries, with the same `refundRef`. A refusal is a FAILED
   * answer, not a rejection.
   */
  refund(request: GatewayRefundRequest): Promise<GatewayRefund>;
  /** Where a refund that answered PROCESSING stands now; rejects only when the gateway cannot be reached. */
  refundStatus(query: { gatewayRefundId: string; refundRef: string }): Promise<GatewayRefund>;
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

/** A refund no gateway should be asked for: its amount is not a positive whole number of minor units. */
export function refusedRefundAmount(amountMinor: number): GatewayRefund | undefined {
  return Number.isSafeInteger(amountMinor) && amountMinor > 0
    ? undefined
    : { status: 'FAILED', reason: `refund amount ${amountMinor} is not a positive amount in minor units` };
}

/** Parses a gateway amount such as "1500.00" into minor units; NaN unless it is a plain decimal. */
export function parseGatewayAmount(value: unknown): number {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  if (!/^\d{1,12}(\.\d{1,2})?$/.test(text)) return Number.NaN;
  const [whole, fraction = ''] = text.split('.');
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
}
