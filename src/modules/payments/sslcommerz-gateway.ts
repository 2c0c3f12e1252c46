import { toMajor } from '../../lib/money.js';
import {
  type AbortClaim,
  GatewayError,
  type GatewayRefund,
  type GatewayRefundRequest,
  type GatewaySessionRequest,
  type GatewayVerdict,
  type PaymentGateway,
  parseGatewayAmount,
  refusedRefundAmount,
} from './gateway.js';

export interface SslCommerzOptions {
  storeId: string;
  storePass: string;
  paymentApi: string;
  validationApi: string;
  /** The Transaction Query API, which reports every attempt made under one of our tran_ids. */
  transactionQueryApi: string;
  /** The refund API: initiates a refund (by `bank_tran_id`) and reports on it (by `refund_ref_id`). */
  refundApi: string;
  /** The API's public base URL: callback and IPN URLs are built from it. */
  publicUrl: string;
  timeoutMs: number;
}

async function call(url: string, init: RequestInit, timeoutMs: number): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    throw new GatewayError(timedOut ? 'payment gateway timed out' : 'payment gateway is unreachable');
  }
  if (!response.ok) throw new GatewayError(`payment gateway answered HTTP ${response.status}`);
  try {
    return (await response.json()) as Record<string, unknown>;
  } catch {
    throw new GatewayError('payment gateway answered with something other than JSON');
  }
}

const text = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

/** Minor units as the refund API wants them: major units with exactly two decimals (150050 → "1500.50"). */
function refundAmountText(amountMinor: number): string {
  return `${Math.trunc(amountMinor / 100)}.${String(amountMinor % 100).padStart(2, '0')}`;
}

const refusal = (answer: Record<string, unknown>, fallback: string) =>
  text(answer.errorReason).trim() || fallback;

/** Attempt statuses that mean the payer's money did (or may yet) go through. */
const PAID_OR_OPEN = new Set(['VALID', 'VALIDATED', 'PENDING', 'PROCESSING']);
/** Attempt statuses that confirm a fail or cancel return. */
const ENDED_UNPAID = new Set(['FAILED', 'CANCELLED']);

/**
 * SSLCommerz: session init (form-encoded, the legacy field set), the order validation API, the
 * transaction query API and the refund API.
 */
export function createSslCommerzGateway(options: SslCommerzOptions): PaymentGateway {
  const callbackBase = `${options.publicUrl}/api/v1/payment`;
  /** A GET to one of the store's JSON APIs, with the store's credentials added. */
  const askStore = (api: string, params: Record<string, string>) => {
    const url = new URL(api);
    url.search = new URLSearchParams({
      ...params,
      store_id: options.storeId,
      store_passwd: options.storePass,
      format: 'json',
    }).toString();
    return call(url.toString(), { method: 'GET' }, options.timeoutMs);
  };

  return {
    name: 'sslcommerz',
    async createSession(request: GatewaySessionRequest) {
      const back = (kind: 'success' | 'fail' | 'cancel') =>
        `${callbackBase}/${kind}?transactionId=${encodeURIComponent(request.transactionId)}`;
      const form = new URLSearchParams({
        store_id: options.storeId,
        store_passwd: options.storePass,
        total_amount: toMajor(request.amountMinor).toFixed(2),
        currency: request.currency,
        tran_id: request.transactionId,
        success_url: back('success'),
        fail_url: back('fail'),
        cancel_url: back('cancel'),
        ipn_url: `${callbackBase}/validate-payment`,
        shipping_method: 'NO',
        product_name: request.productName,
        product_category: 'Service',
        product_profile: 'general',
        num_of_item: '1',
        cus_name: request.customer.name,
        cus_email: request.customer.email,
        cus_add1: request.customer.address,
        cus_add2: 'N/A',
        cus_city: 'Dhaka',
        cus_state: 'Dhaka',
        cus_postcode: '1000',
        cus_country: 'Bangladesh',
        cus_phone: request.customer.phone,
        cus_fax: request.customer.phone,
        ship_name: 'N/A',
        ship_add1: 'N/A',
        ship_add2: 'N/A',
        ship_city: 'N/A',
        ship_state: 'N/A',
        ship_postcode: '1000',
        ship_country: 'N/A',
      });
      const answer = await call(
        options.paymentApi,
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: form.toString(),
        },
        options.timeoutMs,
      );
      const url = answer.GatewayPageURL;
      if (typeof url !== 'string' || !/^https?:\/\//.test(url)) {
        const reason = typeof answer.failedreason === 'string' ? `: ${answer.failedreason}` : '';
        throw new GatewayError(`payment gateway refused the session${reason}`);
      }
      return { paymentUrl: url };
    },

    async validate(valId: string): Promise<GatewayVerdict> {
      const raw = await askStore(options.validationApi, {
        val_id: valId,
      });
      return {
        status: text(raw.status).toUpperCase(),
        tranId: text(raw.tran_id),
        amount: parseGatewayAmount(raw.amount),
        currency: text(raw.currency || raw.currency_type).toUpperCase(),
        valId: text(raw.val_id) || valId,
        risky: text(raw.risk_level).trim() === '1',
        bankTranId: text(raw.bank_tran_id).trim() || undefined,
        raw,
      };
    },

    /**
     * Initiates a refund. SSLCommerz answers `success` when it accepted the request (the money moves later:
     * PROCESSING until `refundStatus` says refunded), `processing` when this refund was already initiated,
     * `failed` with an `errorReason`; an `APIConnect` other than DONE means the store or the request was
     * refused (credentials, inactive store, bad parameters).
     */
    async refund(request: GatewayRefundRequest): Promise<GatewayRefund> {
      const badAmount = refusedRefundAmount(request.amountMinor);
      if (badAmount) return badAmount;
      if (!request.bankTranId) {
        return { status: 'FAILED', reason: 'the payment has no bank transaction id to refund against' };
      }
      const answer = await askStore(options.refundApi, {
        bank_tran_id: request.bankTranId,
        refund_amount: refundAmountText(request.amountMinor),
        refund_remarks: request.remarks.slice(0, 255),
        refe_id: request.refundRef,
        refund_trans_id: request.refundRef,
      });
      const apiConnect = text(answer.APIConnect).toUpperCase();
      if (apiConnect !== 'DONE') {
        return {
          status: 'FAILED',
          reason: refusal(answer, `refund request refused (APIConnect ${apiConnect || 'missing'})`),
        };
      }
      const gatewayRefundId = text(answer.refund_ref_id).trim() || undefined;
      switch (text(answer.status).toLowerCase()) {
        case 'success':
        case 'processing':
          return { status: 'PROCESSING', gatewayRefundId };
        case 'failed':
          return {
            status: 'FAILED',
            gatewayRefundId,
            reason: refusal(answer, 'refund refused by the gateway'),
          };
        default:
          throw new GatewayError(`payment gateway answered the refund with status "${text(answer.status)}"`);
      }
    },

    /** Asks about a refund by its `refund_ref_id`: `refunded`, `processing`, or `cancelled` (failed). */
    async refundStatus(query: { gatewayRefundId: string; refundRef: string }): Promise<GatewayRefund> {
      const answer = await askStore(options.refundApi, {
        refund_ref_id: query.gatewayRefundId,
      });
      const apiConnect = text(answer.APIConnect).toUpperCase();
      // Not knowing is not failing: the refund may still go through, so the caller asks again later.
      if (apiConnect !== 'DONE') {
        throw new GatewayError(
          `payment gateway refused the refund query (APIConnect ${apiConnect || 'missing'})`,
        );
      }
      const gatewayRefundId = query.gatewayRefundId;
      switch (text(answer.status).toLowerCase()) {
        case 'refunded':
          return { status: 'REFUNDED', gatewayRefundId };
        case 'processing':
          return { status: 'PROCESSING', gatewayRefundId };
        case 'cancelled':
          return {
            status: 'FAILED',
            gatewayRefundId,
            reason: refusal(answer, 'refund cancelled by the gateway'),
          };
        default:
          throw new GatewayError(
            `payment gateway answered the refund query with status "${text(answer.status)}"`,
          );
      }
    },

    /**
     * A fail or cancel return is genuine when SSLCommerz reports an attempt under this tran_id that failed
     * or was cancelled, and none that was paid or is still open (the payer may have retried).
     */
    async confirmsAbort(claim: AbortClaim) {
      const answer = await askStore(options.transactionQueryApi, {
        tran_id: claim.tranId,
      });
      if (text(answer.APIConnect).toUpperCase() !== 'DONE' || !Array.isArray(answer.element)) return false;
      const statuses = (answer.element as unknown[])
        .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null)
        .filter((e) => text(e.tran_id) === claim.tranId)
        .map((e) => text(e.status).toUpperCase());
      return statuses.some((s) => ENDED_UNPAID.has(s)) && !statuses.some((s) => PAID_OR_OPEN.has(s));
    },
  };
}
