import { z } from 'zod';
import { errorSchema } from '../lib/envelope.js';
import type { ErrorCode } from '../lib/errors.js';

/**
 * Completes the generated OpenAPI document in one place, so every route gets the same treatment, including
 * routes added later: the error answers each route can give, in the error envelope; realistic examples where
 * a schema has none; no ±9007199254740991 bounds (what Zod writes for "any safe integer").
 */

type Json = Record<string, unknown>;
type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 422 | 429 | 502 | 503;

interface Answer {
  description: string;
  code: ErrorCode;
  message: string;
  errorSources?: { path: string; message: string }[];
}

/** What each error status means on any route, with the codes it carries. */
const ANSWERS: Record<ErrorStatus, Answer & { codes: ErrorCode[] }> = {
  400: {
    description: 'The request is not valid: `errorSources` names each field (dotted path) and what is wrong.',
    codes: ['VALIDATION_ERROR'],
    code: 'VALIDATION_ERROR',
    message: 'email: Invalid email address',
    errorSources: [{ path: 'email', message: 'Invalid email address' }],
  },
  401: {
    description:
      'Not signed in: no access token, or an invalid one. An expired token answers `TOKEN_EXPIRED` ("jwt expired"): ' +
      'refresh with POST /api/v1/auth/refresh-token and repeat the request.',
    codes: ['UNAUTHENTICATED', 'TOKEN_EXPIRED'],
    code: 'TOKEN_EXPIRED',
    message: 'jwt expired',
  },
  403: {
    description:
      "Signed in, but not allowed: the caller's role may not do this, or the account is blocked, inactive or deleted.",
    codes: ['FORBIDDEN'],
    code: 'FORBIDDEN',
    message: 'You are not permitted to access this resource',
  },
  404: {
    description: "No such resource, or it is someone else's (answered the same, so ids cannot be probed).",
    codes: ['NOT_FOUND'],
    code: 'NOT_FOUND',
    message: 'Resource not found',
  },
  409: {
    description: 'The request conflicts with the current state of the resource.',
    codes: ['CONFLICT', 'SOLD_OUT'],
    code: 'CONFLICT',
    message: 'name already exists',
    errorSources: [{ path: 'name', message: 'name already exists' }],
  },
  422: {
    description: 'The Idempotency-Key was already used with another request body.',
    codes: ['IDEMPOTENCY_MISMATCH'],
    code: 'IDEMPOTENCY_MISMATCH',
    message: 'This Idempotency-Key was already used with a different request body',
    errorSources: [{ path: 'Idempotency-Key', message: 'key reused with a different request body' }],
  },
  429: {
    description:
      'Too many requests from this address or for this account: retry after `Retry-After` seconds.',
    codes: ['RATE_LIMITED'],
    code: 'RATE_LIMITED',
    message: 'Too many requests, try again later',
  },
  502: {
    description: 'An outside service (payment gateway, Google) did not answer in time; try again.',
    codes: ['UPSTREAM_ERROR'],
    code: 'UPSTREAM_ERROR',
    message: 'The payment gateway did not respond. Please try again in a moment.',
  },
  503: {
    description:
      'Temporarily unavailable (the database is unreachable or the server is shutting down); retry.',
    codes: ['SERVICE_UNAVAILABLE'],
    code: 'SERVICE_UNAVAILABLE',
    message: 'Service temporarily unavailable, please retry',
  },
};

type RouteAnswers = Partial<Record<ErrorStatus, Partial<Answer>>>;

/**
 * Answers a route gives besides those its shape implies (400 when it validates input, 401 and 403 when it
 * needs a signed-in caller, 404 when it has path parameters, 429 everywhere rate limits apply). Keyed by
 * method and documented path; every key must name a route, or building the description fails.
 */
const ROUTE_ANSWERS: Record<string, RouteAnswers> = {
  'POST /api/v1/auth/login': {
    401: {
      description:
        'Wrong email or password (the same answer for both), a Google-only account, or an unverified one.',
      code: 'UNAUTHENTICATED',
      message: 'Password does not match',
    },
    403: { description: 'The account is blocked, inactive or deleted.', message: 'User is BLOCKED' },
  },
  'POST /api/v1/auth/refresh-token': {
    401: {
      description:
        'No refresh token, or an expired, revoked or already spent one (a spent one ends the session): sign in again.',
      code: 'UNAUTHENTICATED',
      message: 'Session has ended, please sign in again',
    },
    403: { description: 'The account is blocked, inactive or deleted.', message: 'User is BLOCKED' },
  },
  'POST /api/v1/auth/reset-password': {
    401: {
      description: 'The reset link is invalid, expired or already used.',
      code: 'UNAUTHENTICATED',
      message: 'Password reset link is invalid or has expired',
    },
  },
  'POST /api/v1/auth/change-password': {
    401: {
      description: 'Not signed in, or the old password does not match.',
      message: 'Old Password does not match',
    },
  },
  'POST /api/v1/otp/verify': {
    401: {
      description: 'The code is wrong or has expired.',
      code: 'UNAUTHENTICATED',
      message: 'Invalid OTP',
    },
  },
  'GET /api/v1/auth/google': {
    502: { description: 'Google could not be reached.', message: 'Google sign-in is unavailable right now' },
    503: {
      description: 'Google sign-in is not configured on this server.',
      message: 'Google sign-in is not configured on this server',
    },
  },
  'POST /api/v1/user/register': {
    409: {
      description: 'An account with this email exists.',
      message: 'email already exists',
      errorSources: [{ path: 'email', message: 'email already exists' }],
    },
  },
  'PATCH /api/v1/user/{id}': {
    409: {
      description: 'The last active super admin cannot be demoted, blocked or deleted.',
      message: 'The last active super admin cannot be demoted, blocked or deleted',
      errorSources: [],
    },
  },
  'POST /api/v1/division/create': { 409: { description: 'A division with this name exists.' } },
  'PATCH /api/v1/division/{id}': { 409: { description: 'A division with this name exists.' } },
  'DELETE /api/v1/division/{id}': {
    409: { description: 'Tours still belong to the division.', errorSources: [] },
  },
  'POST /api/v1/tour/create-tour-type': { 409: { description: 'A tour type with this name exists.' } },
  'PATCH /api/v1/tour/tour-types/{id}': { 409: { description: 'A tour type with this name exists.' } },
  'DELETE /api/v1/tour/tour-types/{id}': {
    409: { description: 'Tours still use the tour type.', errorSources: [] },
  },
  'PATCH /api/v1/tour/{id}': {
    409: {
      description: 'maxGuest would be lower than the seats already booked.',
      message: 'maxGuest cannot be lower than the 4 seat(s) already booked for this tour',
      errorSources: [],
    },
  },
  'DELETE /api/v1/tour/{id}': {
    409: {
      description: 'The tour has bookings and cannot be deleted.',
      message: 'Tour has 2 pending or paid booking(s) and cannot be deleted',
      errorSources: [],
    },
  },
  'POST /api/v1/tour/{tourId}/departures': {
    409: {
      description: 'Two departures of the tour would start at the same instant.',
      message: 'This tour already has a departure starting at that instant',
      errorSources: [],
    },
  },
  'PATCH /api/v1/departures/{id}': {
    409: {
      description:
        'capacity would be lower than the seats already booked, another departure of the tour starts at the new ' +
        'startDate, or the departure is cancelled.',
      message: 'capacity cannot be lower than the 4 seat(s) already booked on this departure',
      errorSources: [],
    },
  },
  'GET /api/v1/departures/{id}/manifest': {
    403: {
      description: 'The caller is a guide of another departure, or the role or account state forbids it.',
      message: "Only the departure's assigned guide or an admin may see its manifest",
    },
  },
  'POST /api/v1/booking/{bookingId}/check-in': {
    403: {
      description: 'The caller is a guide of another departure, or the role or account state forbids it.',
      message: "Only the departure's assigned guide or an admin may check in its travellers",
    },
    409: {
      description:
        'The booking is not paid, or check-in is not open: it opens 24 hours before the departure starts and ' +
        'closes when it ends.',
      message:
        'Check-in is open from 24 hours before the departure starts until it ends: 2027-01-14T03:00:00.000Z to ' +
        '2027-01-17T03:00:00.000Z',
      errorSources: [],
    },
  },
  'POST /api/v1/departures/{id}/waitlist': {
    409: {
      description:
        'The departure has enough seats now (book instead), the caller already waits on it, it has fewer seats ' +
        'in all than `guestCount`, or it is closed, cancelled or started.',
      message: 'This departure has 3 seats available now: book instead',
      errorSources: [],
    },
  },
  'DELETE /api/v1/waitlist/{id}': {
    409: {
      description:
        'The entry is already BOOKED or EXPIRED, or its offer was paid and is under review (an admin cancels it).',
      message: 'This waitlist entry is already BOOKED',
      errorSources: [],
    },
  },
  'POST /api/v1/booking': {
    409: {
      description:
        'Not enough seats left on the departure (`SOLD_OUT`), the departure asked for is closed, cancelled or ' +
        'started, or a request with the same Idempotency-Key is still running (`CONFLICT`).',
      code: 'SOLD_OUT',
      message: 'Not enough seats left on this departure',
      errorSources: [],
    },
    422: {},
    502: {},
  },
  'PATCH /api/v1/booking/{bookingId}/status': {
    409: {
      description: 'The booking cannot move to that status from its current one.',
      message: 'A COMPLETE booking cannot be changed to CANCEL',
      errorSources: [],
    },
  },
  'POST /api/v1/booking/{bookingId}/cancel': {
    403: {
      description: 'Only an admin may choose `refundAmount`; or the role or account state forbids it.',
      message: 'Only an admin may choose the refund amount',
    },
    409: {
      description:
        'The booking is already cancelled or failed, its payment is under review, or (for its owner) the paid trip has already started.',
      message: 'This booking is already cancelled',
      errorSources: [],
    },
  },
  'POST /api/v1/tour/{tourId}/reviews': {
    400: {
      description:
        'The request is not valid, or `booking` cannot be reviewed: not paid, its trip has not ended, or it is of another tour.',
      message: 'Only a paid booking can be reviewed',
      errorSources: [{ path: 'booking', message: 'Only a paid booking can be reviewed' }],
    },
    404: { description: "No such tour, or the booking does not exist or is someone else's." },
    409: {
      description: 'The booking has already been reviewed.',
      message: 'This booking has already been reviewed',
      errorSources: [{ path: 'booking', message: 'This booking has already been reviewed' }],
    },
  },
  'PATCH /api/v1/reviews/{id}': {
    403: {
      description:
        'Only an admin may set `hidden`, and only the author may change the rating or comment; or the role or account state forbids it.',
      message: 'Only an admin can hide or show a review',
    },
    409: {
      description: 'The author may change a review only within 30 days of writing it.',
      message:
        'A review can be changed within 30 days of writing it; this one was written on 2026-10-01T08:00:00.000Z',
      errorSources: [],
    },
  },
  'POST /api/v1/refunds/{id}/retry': {
    409: {
      description: 'Only a FAILED refund can be retried.',
      message: 'Only a FAILED refund can be retried; this one is PROCESSING',
      errorSources: [],
    },
  },
  'POST /api/v1/payment/init-payment/{bookingId}': {
    409: {
      description: 'The booking is not awaiting payment (paid, cancelled, failed) or its hold has expired.',
      message: 'The hold on this booking has expired; please book again',
      errorSources: [],
    },
    502: {},
  },
  'POST /api/v1/payment/validate-payment': {
    400: {
      description:
        'The gateway does not confirm the payment (`PAYMENT_NOT_VERIFIED`), or the request is not valid (`VALIDATION_ERROR`).',
      code: 'PAYMENT_NOT_VERIFIED',
      message: 'Payment not verified: the paid amount does not match the booking',
      errorSources: [{ path: 'val_id', message: 'the paid amount does not match the booking' }],
    },
    404: { description: 'Unknown transaction.', message: 'Unknown transaction' },
    502: { description: 'The gateway could not be reached; it retries the notification.' },
  },
  'GET /api/v1/payment/invoice/{paymentId}': {
    409: {
      description: 'The payment is not paid: there is no invoice.',
      message: 'No invoice: the payment is UNPAID',
    },
  },
  'GET /api/v1/payment/invoice/{paymentId}/download': {
    403: {
      description: 'The download link is invalid or has expired: ask for a new one.',
      message: 'This download link is invalid or has expired',
    },
  },
  'GET /ready': {
    503: { description: 'The database is not reachable.', message: 'Database is not reachable' },
  },
};

const ERROR_REF = '#/components/schemas/ErrorResponse';

function errorResponse(status: ErrorStatus, answer: Partial<Answer>) {
  const base = ANSWERS[status];
  const code = answer.code ?? base.code;
  const codes = answer.code && !base.codes.includes(answer.code) ? [...base.codes, answer.code] : base.codes;
  const response: Json = {
    description: `${answer.description ?? base.description} Codes: ${codes.map((c) => `\`${c}\``).join(', ')}.`,
    content: {
      'application/json': {
        schema: { $ref: ERROR_REF },
        example: {
          statusCode: status,
          success: false,
          message: answer.message ?? base.message,
          code,
          errorSources: answer.errorSources ?? base.errorSources ?? [],
        },
      },
    },
  };
  if (status === 429) {
    response.headers = {
      'Retry-After': {
        description: 'Seconds to wait before trying again',
        schema: { type: 'integer', example: 30 },
      },
    };
  }
  return response;
}

// ---- examples ---------------------------------------------------------------------------------------------

const ID = '01936f3e-8a4b-7c2d-9e1f-2a3b4c5d6e7f';
const TIME = '2026-12-02T10:41:07.311Z';
const BASE = 'http://localhost:5000';

/** Examples by property name, for schemas that carry none of their own. First match wins. */
const EXAMPLES_BY_NAME: [RegExp, (schema: Json) => unknown][] = [
  [/^(_id|id)$|Id$|^(tour|division|tourType|user|booking|payment|session|actor)$/, () => ID],
  [/^(transactionId|tran_id)$/, () => 'tran_5f2c9a7e1b3d4c6a8e0f1a2b3c4d5e6f'],
  [/At$/, () => TIME],
  [/Date$|^(from|to)$/, () => '2027-01-15T03:00:00.000Z'],
  [/^email$/, () => 'traveller@example.com'],
  [/^phone$/, () => '+8801712345678'],
  [/^(password|newPassword|oldPassword)$/, () => 'Sundarban-Trip-2026'],
  [/^(otp|code)$/, (s) => (s.type === 'string' ? '482913' : undefined)],
  [/Token$|^token$/, () => 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VySWQiOiIwMTkzNmYzZSJ9.c2lnbmF0dXJl'],
  [/^name$/, () => 'Nusrat Jahan'],
  [/^title$/, () => 'Sundarbans Mangrove Safari'],
  [/^slug$/, () => 'sundarbans-mangrove-safari'],
  [/^description$/, () => 'Three days by boat through the mangrove forest, with a forest guide.'],
  [/^address$/, () => 'House 12, Road 5, Dhanmondi, Dhaka'],
  [/[lL]ocation$/, () => 'Khulna'],
  [/^currency$/, () => 'BDT'],
  [/^(amount|costFrom|unitPrice|price|refundIfCancelledNow)$|Amount$|Revenue$|Cost/, () => 1500.5],
  [/^average$/, () => 4.3],
  [/^rating$/, (s) => (s.type === 'integer' || s.type === 'number' ? 5 : undefined)],
  [/^hoursBefore$/, () => 168],
  [/^refundPercent$/, () => 100],
  [/^reason$/, () => 'Cancelled by the traveller: a family emergency'],
  [/^failureReason$/, () => 'Card account closed'],
  [/^gatewayRefundId$/, () => 'RF3A9C21D07B44'],
  [/^paymentUrl$/, () => `${BASE}/api/v1/payment/local-gateway/tran_5f2c9a7e1b3d4c6a8e0f1a2b3c4d5e6f`],
  [
    /^invoiceUrl$/,
    () => `${BASE}/api/v1/payment/invoice/${ID}/download?expires=1764672067&signature=q9Xw3vR1`,
  ],
  [/^(picture|thumbnail|images)$/, () => `${BASE}/uploads/images/sundarbans-mangrove-safari.webp`],
  [/^docs$/, () => `${BASE}/docs`],
  [/^openapi$/, () => `${BASE}/openapi.json`],
  [/^health$/, () => `${BASE}/health`],
  [/^(guestCount|count|guests)$|Count$|Guests$/, () => 2],
  [/^avg.*Guest/, () => 2.5],
  [/^revenue$|^avg/, () => 1500.5],
  [/^(occupancy|rate)$/, () => 0.75],
  [/^uptimeSeconds$/, () => 3600],
  [
    /^total|^new|Last\w*Days$|LastThirty$|^seats|^(availableSeats|capacity|paidBookings|createdBookings|payments)$/,
    () => 12,
  ],
  [/^(sessionsEnded|days|upcomingLimit)$/, () => 7],
  [/^(amenities|included|excluded)$/, () => 'Boat ride with meals'],
  [/^tourPlan$/, () => 'Day 1: Khulna to Karamjal by boat'],
  [/^redirect$/, () => '/booking?tour=sundarbans-mangrove-safari'],
  [/^idempotency-key$/, () => '5b1f0c1e-6a8d-4f4e-9a51-3c2e7d9b8a10'],
  [/^val_id$/, () => 'local.eyJ0IjoidHJhbl81ZjJjIn0.q9Xw3vR1'],
  [/^signature$/, () => 'q9Xw3vR1kZ2pL8sT4mN6bV0cX7yH5jD3'],
  [/^expires$/, () => 1764672067],
  [/^provider$/, () => 'credentials'],
  [/^role$/, () => 'USER'],
  [/^status$/, () => 'PENDING'],
  [/^isActive$/, () => 'ACTIVE'],
  [/^(isDeleted|isVerified)$/, () => 'false'],
  [/^type$/, () => 'sign_in'],
  [/^database$/, () => 'postgres'],
  [/^date$/, () => '2026-12-02'],
  [/^(maxGuest|minAge)$/, (s) => (s.type === 'integer' || s.type === 'number' ? 12 : undefined)],
  [/^searchTerm$/, () => 'sundarbans'],
  [/^sort$/, () => '-createdAt'],
  [/^fields$/, () => 'title,slug,costFrom'],
  [/^(page)$/, () => 1],
  [/^(limit)$/, () => 10],
  [/^(ip)$/, () => '203.0.113.7'],
  [/^userAgent$/, () => 'Mozilla/5.0 (Linux; Android 14) Chrome/131.0 Mobile Safari/537.36'],
  [/^device$/, () => 'Chrome on Android'],
  [/^version$/, () => '1.0.0'],
];

const SAFE_INTEGER = Number.MAX_SAFE_INTEGER;

/** Whether a schema describes one plain value (where an example by name makes sense). */
const isScalar = (s: Json) =>
  ['string', 'number', 'integer'].includes(String(s.type)) && s.enum === undefined && s.const === undefined;

/** Walks a schema: drops safe-integer bounds, and gives named scalar properties an example when they lack one. */
function completeSchema(schema: unknown, name?: string): void {
  if (!schema || typeof schema !== 'object') return;
  if (Array.isArray(schema)) {
    for (const item of schema) completeSchema(item, name);
    return;
  }
  const s = schema as Json;
  if (s.minimum === -SAFE_INTEGER) delete s.minimum;
  if (s.maximum === SAFE_INTEGER) delete s.maximum;
  if (name && s.example === undefined && isScalar(s)) {
    const rule = EXAMPLES_BY_NAME.find(([pattern]) => pattern.test(name));
    const example = rule?.[1](s);
    if (example !== undefined) s.example = s.type === 'string' ? String(example) : example;
    else if (s.format === 'date-time') s.example = TIME;
  }
  if (s.properties && typeof s.properties === 'object') {
    for (const [key, child] of Object.entries(s.properties as Json)) completeSchema(child, key);
  }
  if (s.items) completeSchema(s.items, name);
  for (const key of ['allOf', 'anyOf', 'oneOf', 'additionalProperties', 'not']) completeSchema(s[key]);
}

/** The top-level `statusCode` of an answer shows that answer's status. */
function exampleStatusCode(schema: unknown, status: string) {
  const property = (schema as { properties?: { statusCode?: Json } } | undefined)?.properties?.statusCode;
  if (property && /^\d{3}$/.test(status)) property.example = Number(status);
}

interface Operation {
  parameters?: { in: string; name: string; schema?: unknown; example?: unknown }[];
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
  security?: unknown[];
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Adds error answers and examples to a generated OpenAPI 3.0 document (in place) and returns it. */
export function completeApiDescription<T extends Json>(
  document: T,
  options: { unthrottledPaths: string[] },
): T {
  const paths = (document.paths ?? {}) as Record<string, Record<string, Operation>>;
  const unused = new Set(Object.keys(ROUTE_ANSWERS));

  for (const [path, item] of Object.entries(paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const key = `${method.toUpperCase()} ${path}`;
      unused.delete(key);
      const parameters = operation.parameters ?? [];
      const answers: RouteAnswers = {};
      if (operation.requestBody || parameters.length > 0) answers[400] = {};
      if (operation.security && operation.security.length > 0) {
        answers[401] = {};
        answers[403] = {};
      }
      if (parameters.some((p) => p.in === 'path')) answers[404] = {};
      if (!options.unthrottledPaths.includes(path)) answers[429] = {};
      Object.assign(answers, ROUTE_ANSWERS[key]);

      operation.responses ??= {};
      for (const [status, answer] of Object.entries(answers)) {
        operation.responses[status] ??= errorResponse(Number(status) as ErrorStatus, answer) as never;
      }

      for (const parameter of parameters) {
        completeSchema(parameter.schema, parameter.name);
      }
      for (const media of Object.values(operation.requestBody?.content ?? {})) completeSchema(media.schema);
      for (const [status, response] of Object.entries(operation.responses)) {
        for (const media of Object.values(response.content ?? {})) {
          if ((media.schema as Json | undefined)?.$ref === ERROR_REF) continue;
          completeSchema(media.schema);
          exampleStatusCode(media.schema, status);
        }
      }
    }
  }
  if (unused.size > 0) {
    throw new Error(`Error answers are declared for routes that do not exist: ${[...unused].join(', ')}`);
  }

  const doc = document as Json;
  doc.components ??= {};
  const components = doc.components as Json;
  components.schemas ??= {};
  const schemas = components.schemas as Json;
  const envelope = z.toJSONSchema(errorSchema, { target: 'openapi-3.0' }) as Json;
  delete envelope.$schema;
  completeSchema(envelope);
  schemas.ErrorResponse = { ...envelope, description: 'The error envelope every error answer carries.' };
  return document;
}
