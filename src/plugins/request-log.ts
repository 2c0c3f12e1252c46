import type { FastifyReply, FastifyRequest } from 'fastify';

const REDACTED = '[redacted]';

// Payment URLs carry capabilities: a transaction id lets its holder drive the payment callbacks, a payment
// id plus its signed query downloads the invoice. Matched loosely (case, doubled slashes) because the log
// line is written for requests that match no route too.
const PAYMENT_PATH = /^\/+api\/+v1\/+payment\/+([^/]*)(.*)$/i;

/** Everything after the route name redacted, except the literal segments routes put there. */
function redactPaymentPath(path: string): string {
  const match = PAYMENT_PATH.exec(path);
  if (!match) return path;
  const [, route, rest] = match;
  const tail = rest!
    .split('/')
    .map((segment) => (segment === '' || segment === 'download' ? segment : REDACTED))
    .join('/');
  return `/api/v1/payment/${route}${tail}`;
}

/** Parameter names kept, values dropped; a bare item (no `=`) could be the value itself. */
function redactQuery(query: string): string {
  return query
    .split('&')
    .map((item) => {
      const equals = item.indexOf('=');
      return equals === -1 ? (item === '' ? '' : REDACTED) : `${item.slice(0, equals)}=${REDACTED}`;
    })
    .join('&');
}

/** The request URL as it may be logged: payment routes lose their ids and every query value. */
export function loggableUrl(url: string): string {
  const mark = url.indexOf('?');
  const path = mark === -1 ? url : url.slice(0, mark);
  if (!PAYMENT_PATH.test(path)) return url;
  return mark === -1
    ? redactPaymentPath(path)
    : `${redactPaymentPath(path)}?${redactQuery(url.slice(mark + 1))}`;
}

// The error code each error answer carried, for its request's log line. Kept beside the reply rather than on
// it, so answers that succeed pay nothing.
const errorCodes = new WeakMap<object, string>();

/** Remembers the `code` of the error envelope a reply answers with. */
export function recordErrorCode(reply: FastifyReply, code: string): void {
  errorCodes.set(reply, code);
}

/**
 * Pino serializers for the per-request log lines: Fastify's own fields, with the URL made loggable and, on an
 * error answer, the error code the client received (`res: { statusCode: 404, code: 'NOT_FOUND' }`).
 */
export const requestLogSerializers = {
  res(reply: Pick<FastifyReply, 'statusCode'>) {
    const code = reply.statusCode >= 400 ? errorCodes.get(reply) : undefined;
    return code ? { statusCode: reply.statusCode, code } : { statusCode: reply.statusCode };
  },
  req(request: FastifyRequest) {
    return {
      method: request.method,
      url: loggableUrl(request.url),
      host: request.host,
      remoteAddress: request.ip,
      remotePort: request.socket?.remotePort,
    };
  },
};
