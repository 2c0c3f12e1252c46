import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the fake answers session-init requests. */
export type SessionMode = 'ok' | 'refuse' | 'down' | { slowMs: number };

/** What the validation API says about a val_id the fake issued. */
export type ValidationAnswer =
  | 'valid'
  | 'validated'
  | 'invalid'
  | 'wrong-amount'
  | 'wrong-currency'
  | 'other-tran'
  /** VALID, but with `risk_level` "1": the gateway asks the merchant to check before delivering. */
  | 'risky';

export interface InitRequest {
  fields: Record<string, string>;
  receivedAt: number;
}

/** A refund the fake accepted, as the refund API's query would report it. */
export interface FakeRefund {
  refundRefId: string;
  bankTranId: string;
  tranId: string;
  /** As sent: major units, e.g. "1500.50". */
  amount: string;
  remarks: string;
  refeId: string;
  refundTransId: string;
  status: 'processing' | 'refunded' | 'cancelled';
  /** Status queries answered so far. */
  queries: number;
  /** Queries to answer `processing` before the refund ends. */
  processingQueries: number;
  ending: RefundEnding;
}

/** How a refund ends once its processing queries are used up. */
export type RefundEnding = 'refunded' | { cancelled: string };

export interface FakeSslCommerz {
  /** Env settings that point the app at this fake. */
  env: Record<string, string>;
  baseUrl: string;
  initRequests: InitRequest[];
  validationRequests: URLSearchParams[];
  transactionQueryRequests: URLSearchParams[];
  /** Every call to the refund API (initiations and queries), including those made to fail. */
  refundRequests: URLSearchParams[];
  /** Refunds accepted, in order: how many refunds were really made. */
  refunds: FakeRefund[];
  /** Answer for the next session inits: by default, for every customer; or only for one customer email. */
  setSessionMode(mode: SessionMode, forEmail?: string): void;
  /** Makes the validation and transaction query APIs slow or unreachable (for "cannot verify" paths). */
  setValidationMode(mode: 'ok' | 'down' | { slowMs: number }): void;
  /**
   * What the transaction query API reports for `tranId` (one element per attempt, in order). A session
   * with nothing set reports one PENDING attempt; an unknown transaction reports none.
   */
  setTransactionStatus(tranId: string, ...statuses: string[]): void;
  /** A val_id the validation API will answer for with `answer`, about transaction `tranId`. */
  issueValId(tranId: string, answer?: ValidationAnswer): string;
  /** The next `count` refund API calls (initiate or query) find the gateway unreachable or answering 500. */
  failNextRefundCalls(count: number, mode?: 'down' | 'error'): void;
  /**
   * For refunds initiated from now on: answer `processing` to the first `processingQueries` status queries
   * (default 0), then end as `ending` (default refunded).
   */
  setRefundPlan(plan: { processingQueries?: number; ending?: RefundEnding }): void;
  close(): Promise<void>;
}

const STORE_ID = 'teststore';
const STORE_PASS = 'teststore@ssl';

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether a query-string request (validation, transaction query, refund) carries the store's credentials. */
const fromTheStore = (q: URLSearchParams) =>
  q.get('store_id') === STORE_ID && q.get('store_passwd') === STORE_PASS;

/**
 * An SSLCommerz-like server on 127.0.0.1 (random port): session init, the order validation API, the
 * transaction query API (by our tran_id) and the refund API (initiate by bank_tran_id, query by
 * refund_ref_id). Payments the validation API reported paid can be refunded, up to what was paid. A refund
 * initiated again with the same `refund_trans_id` is the same refund: SSLCommerz takes the merchant's refund
 * id for exactly this, and the app relies on it to repeat an initiation whose answer it never recorded.
 */
export async function startFakeSslCommerz(): Promise<FakeSslCommerz> {
  const initRequests: InitRequest[] = [];
  const validationRequests: URLSearchParams[] = [];
  const transactionQueryRequests: URLSearchParams[] = [];
  const attempts = new Map<string, string[]>();
  const sessions = new Map<string, Record<string, string>>();
  const issued = new Map<string, { tranId: string; answer: ValidationAnswer; bankTranId: string }>();
  const refundRequests: URLSearchParams[] = [];
  const refunds: FakeRefund[] = [];
  /** Payments the validation API reported paid, by bank_tran_id: what can be refunded, and how much. */
  const paid = new Map<string, { tranId: string; amountMinor: number }>();
  let refundFailures: { count: number; mode: 'down' | 'error' } = { count: 0, mode: 'down' };
  let refundPlan: { processingQueries: number; ending: RefundEnding } = {
    processingQueries: 0,
    ending: 'refunded',
  };
  let defaultMode: SessionMode = 'ok';
  const modeByEmail = new Map<string, SessionMode>();
  let validationMode: 'ok' | 'down' | { slowMs: number } = 'ok';

  /** The validation and transaction query APIs' outage: false when the connection was dropped, after any delay. */
  async function validationAnswers(req: IncomingMessage): Promise<boolean> {
    if (validationMode === 'down') {
      req.socket.destroy();
      return false;
    }
    if (typeof validationMode === 'object') await sleep(validationMode.slowMs);
    return true;
  }

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'POST' && url.pathname === '/gwprocess/v4/api.php') {
      const fields = Object.fromEntries(new URLSearchParams(await readBody(req)));
      initRequests.push({ fields, receivedAt: Date.now() });
      const mode = modeByEmail.get(fields.cus_email ?? '') ?? defaultMode;
      if (mode === 'down') {
        req.socket.destroy();
        return;
      }
      if (typeof mode === 'object') await sleep(mode.slowMs);
      if (fields.store_id !== STORE_ID || fields.store_passwd !== STORE_PASS || mode === 'refuse') {
        return json(200, { status: 'FAILED', failedreason: 'Store Credential Error Or Store is De-active' });
      }
      sessions.set(fields.tran_id ?? '', fields);
      return json(200, {
        status: 'SUCCESS',
        sessionkey: randomBytes(8).toString('hex'),
        GatewayPageURL: `${baseUrl}/pay/${encodeURIComponent(fields.tran_id ?? '')}`,
      });
    }
    if (req.method === 'GET' && url.pathname === '/validator/api/validationserverAPI.php') {
      validationRequests.push(url.searchParams);
      if (!(await validationAnswers(req))) return;
      const q = url.searchParams;
      if (!fromTheStore(q)) {
        return json(200, { status: 'INVALID_TRANSACTION', error: 'Store credential mismatch' });
      }
      const valId = q.get('val_id') ?? '';
      const entry = issued.get(valId);
      const session = entry ? sessions.get(entry.tranId) : undefined;
      if (!entry || !session || entry.answer === 'invalid')
        return json(200, { status: 'INVALID_TRANSACTION' });
      const amount = Number(session.total_amount);
      if (entry.answer !== 'wrong-amount' && entry.answer !== 'other-tran') {
        paid.set(entry.bankTranId, { tranId: entry.tranId, amountMinor: Math.round(amount * 100) });
      }
      return json(200, {
        status: entry.answer === 'validated' ? 'VALIDATED' : 'VALID',
        tran_date: new Date().toISOString(),
        tran_id: entry.answer === 'other-tran' ? 'tran_someone_else' : entry.tranId,
        val_id: valId,
        amount: (entry.answer === 'wrong-amount' ? amount - 1 : amount).toFixed(2),
        store_amount: (amount * 0.975).toFixed(2),
        currency: entry.answer === 'wrong-currency' ? 'USD' : session.currency,
        currency_type: entry.answer === 'wrong-currency' ? 'USD' : session.currency,
        bank_tran_id: entry.bankTranId,
        card_type: 'VISA-Dutch Bangla',
        risk_level: entry.answer === 'risky' ? '1' : '0',
        risk_title: entry.answer === 'risky' ? 'High' : 'Safe',
      });
    }
    const q = url.searchParams;
    // SSLCommerz serves its refund API on the transaction query API's address, told apart by parameters.
    if (
      req.method === 'GET' &&
      url.pathname === '/validator/api/merchantTransIDvalidationAPI.php' &&
      (q.has('refund_ref_id') || q.has('bank_tran_id'))
    ) {
      refundRequests.push(q);
      if (refundFailures.count > 0) {
        refundFailures.count--;
        if (refundFailures.mode === 'down') {
          req.socket.destroy();
          return;
        }
        return json(500, { error: 'Internal Server Error' });
      }
      if (!fromTheStore(q)) {
        return json(200, { APIConnect: 'FAILED', errorReason: 'Store credential mismatch' });
      }
      return q.has('refund_ref_id') ? json(200, refundQuery(q)) : json(200, initiateRefund(q));
    }
    if (req.method === 'GET' && url.pathname === '/validator/api/merchantTransIDvalidationAPI.php') {
      transactionQueryRequests.push(q);
      if (!(await validationAnswers(req))) return;
      if (!fromTheStore(q)) {
        return json(200, { APIConnect: 'INVALID_REQUEST', no_of_trans_found: 0, element: [] });
      }
      const tranId = q.get('tran_id') ?? '';
      const session = sessions.get(tranId);
      const statuses = attempts.get(tranId) ?? (session ? ['PENDING'] : []);
      return json(200, {
        APIConnect: 'DONE',
        no_of_trans_found: statuses.length,
        element: statuses.map((status) => ({
          tran_id: tranId,
          status,
          amount: session?.total_amount ?? '0.00',
          currency_type: session?.currency ?? 'BDT',
          tran_date: new Date().toISOString(),
          error: status === 'FAILED' ? 'Declined by the issuing bank' : '',
        })),
      });
    }
    json(404, { status: 'FAILED', failedreason: 'not found' });
  });

  function initiateRefund(q: URLSearchParams) {
    const bankTranId = q.get('bank_tran_id') ?? '';
    const amount = q.get('refund_amount') ?? '';
    const answer = (status: string, errorReason = '', refundRefId = '') => ({
      APIConnect: 'DONE',
      bank_tran_id: bankTranId,
      trans_id: paid.get(bankTranId)?.tranId ?? '',
      refund_ref_id: refundRefId,
      status,
      errorReason,
    });
    if (!q.get('refund_remarks'))
      return { APIConnect: 'INVALID_REQUEST', errorReason: 'refund_remarks is required' };
    const payment = paid.get(bankTranId);
    if (!payment) return answer('failed', 'Invalid bank_tran_id');
    // The merchant's own refund id names one refund: asking again with it answers with that refund (as
    // "already initiated") instead of refunding twice. This is the assumption the app's refund worker rests
    // on when it asks again after a run that died before it recorded SSLCommerz's answer.
    const refundTransId = q.get('refund_trans_id') ?? '';
    const earlier = refundTransId
      ? refunds.find((r) => r.bankTranId === bankTranId && r.refundTransId === refundTransId)
      : undefined;
    if (earlier) return answer('processing', '', earlier.refundRefId);
    if (!/^\d+\.\d{2}$/.test(amount) || Number(amount) <= 0) return answer('failed', 'Invalid refund_amount');
    const refundedMinor = refunds
      .filter((r) => r.bankTranId === bankTranId && r.status !== 'cancelled')
      .reduce((sum, r) => sum + Math.round(Number(r.amount) * 100), 0);
    if (refundedMinor + Math.round(Number(amount) * 100) > payment.amountMinor) {
      return answer('failed', 'Refund amount exceeds the refundable amount');
    }
    const refund: FakeRefund = {
      refundRefId: `RF${randomBytes(6).toString('hex').toUpperCase()}`,
      bankTranId,
      tranId: payment.tranId,
      amount,
      remarks: q.get('refund_remarks') ?? '',
      refeId: q.get('refe_id') ?? '',
      refundTransId: q.get('refund_trans_id') ?? '',
      status: 'processing',
      queries: 0,
      ...refundPlan,
    };
    refunds.push(refund);
    return answer('success', '', refund.refundRefId);
  }

  function refundQuery(q: URLSearchParams) {
    const refund = refunds.find((r) => r.refundRefId === q.get('refund_ref_id'));
    if (!refund) return { APIConnect: 'INVALID_REQUEST', errorReason: 'Invalid refund_ref_id' };
    refund.queries++;
    if (refund.status === 'processing' && refund.queries > refund.processingQueries) {
      refund.status = refund.ending === 'refunded' ? 'refunded' : 'cancelled';
    }
    return {
      APIConnect: 'DONE',
      bank_tran_id: refund.bankTranId,
      tran_id: refund.tranId,
      refund_ref_id: refund.refundRefId,
      initiated_on: new Date().toISOString(),
      refunded_on: refund.status === 'refunded' ? new Date().toISOString() : '',
      status: refund.status,
      errorReason:
        typeof refund.ending === 'object' && refund.status === 'cancelled' ? refund.ending.cancelled : '',
    };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    baseUrl,
    env: {
      SSL_STORE_ID: STORE_ID,
      SSL_STORE_PASS: STORE_PASS,
      SSL_PAYMENT_API: `${baseUrl}/gwprocess/v4/api.php`,
      SSL_VALIDATION_API: `${baseUrl}/validator/api/validationserverAPI.php`,
    },
    initRequests,
    validationRequests,
    transactionQueryRequests,
    refundRequests,
    refunds,
    setSessionMode(mode, forEmail) {
      if (forEmail) modeByEmail.set(forEmail, mode);
      else {
        defaultMode = mode;
        modeByEmail.clear();
      }
    },
    setValidationMode(mode) {
      validationMode = mode;
    },
    setTransactionStatus(tranId, ...statuses) {
      attempts.set(tranId, statuses);
    },
    issueValId(tranId, answer = 'valid') {
      const valId = `${Date.now().toString(36)}${randomBytes(6).toString('hex')}`;
      issued.set(valId, { tranId, answer, bankTranId: randomBytes(6).toString('hex').toUpperCase() });
      return valId;
    },
    failNextRefundCalls(count, mode = 'down') {
      refundFailures = { count, mode };
    },
    setRefundPlan(plan) {
      refundPlan = { processingQueries: plan.processingQueries ?? 0, ending: plan.ending ?? 'refunded' };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
