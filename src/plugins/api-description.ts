import { z } from 'zod';
import { errorSchema } from '../lib/envelope.js';
import {
  ERROR_REF,
  type ErrorStatus,
  errorResponse,
  notFoundAnswer,
  type RouteAnswers,
  type RouteSchemas,
  routeValidationAnswer,
} from './api-error-answers.js';
import { completeSchema, exampleStatusCode } from './api-examples.js';
import { completeTransport, GATEWAY_FORMS, REDIRECTS, UPLOADS } from './api-transport.js';

/**
 * Completes the generated OpenAPI document in one place, so every route gets the same treatment, including
 * routes added later: the error answers each route can give, in the error envelope, with examples from the
 * route's own schemas; the bodies and answers the schemas cannot say (multipart uploads, gateway forms,
 * redirects); realistic examples where a schema has none.
 */

type Json = Record<string, unknown>;

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

export interface Operation {
  parameters?: { in: string; name: string; schema?: unknown; example?: unknown }[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: unknown; encoding?: Json }> };
  responses?: Record<
    string,
    { description?: string; content?: Record<string, { schema?: unknown }>; headers?: Json }
  >;
  security?: unknown[];
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Each key must name a documented route, or building the description fails (a renamed route is noticed). */
function checkKeys(table: string, keys: Iterable<string>, routes: Set<string>) {
  const unknown = [...keys].filter((key) => !routes.has(key));
  if (unknown.length > 0) {
    throw new Error(`${table} names routes that do not exist: ${unknown.join(', ')}`);
  }
}

/** Error answers this route gives, by status, from its shape, its own schemas and ROUTE_ANSWERS. */
function routeErrorAnswers(
  key: string,
  path: string,
  operation: Operation,
  schemas: RouteSchemas | undefined,
  unthrottled: boolean,
): RouteAnswers {
  const parameters = operation.parameters ?? [];
  const answers: RouteAnswers = {};
  if (operation.requestBody || parameters.length > 0) {
    const body = operation.requestBody?.content?.['application/json']?.schema as Json | undefined;
    answers[400] = routeValidationAnswer(schemas, body, parameters) ?? {};
  }
  if (operation.requestBody) {
    answers[413] = UPLOADS[key]
      ? {
          description:
            'The body is larger than BODY_LIMIT_BYTES, an image is larger than UPLOAD_MAX_FILE_BYTES (5 MB), or there ' +
            'are more images than UPLOAD_MAX_FILES.',
          message: `${UPLOADS[key].field}: each image must be at most 5 MB`,
          errorSources: [
            { path: UPLOADS[key].field, message: `${UPLOADS[key].field}: each image must be at most 5 MB` },
          ],
        }
      : {};
    answers[415] = UPLOADS[key]
      ? {
          description:
            'The body is neither JSON (`application/json`) nor `multipart/form-data`, or is JSON sent as a form.',
        }
      : {};
  }
  if (operation.security && operation.security.length > 0) {
    answers[401] = {};
    answers[403] = {};
  }
  if (parameters.some((p) => p.in === 'path')) answers[404] = notFoundAnswer(path) ?? {};
  if (!unthrottled) answers[429] = {};
  for (const [status, answer] of Object.entries(ROUTE_ANSWERS[key] ?? {})) {
    const at = Number(status) as ErrorStatus;
    answers[at] = { ...answers[at], ...answer };
  }
  return answers;
}

/**
 * Adds error answers, transport details and examples to a generated OpenAPI 3.0 document (in place) and
 * returns it. `routeSchemas` are the Zod schemas each route validates with, keyed as `METHOD /path/{param}`.
 */
export function completeApiDescription<T extends Json>(
  document: T,
  options: { unthrottledPaths: string[]; routeSchemas?: ReadonlyMap<string, RouteSchemas> },
): T {
  const paths = (document.paths ?? {}) as Record<string, Record<string, Operation>>;
  const routes = new Set(
    Object.entries(paths).flatMap(([path, item]) =>
      METHODS.filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${path}`),
    ),
  );
  checkKeys('ROUTE_ANSWERS', Object.keys(ROUTE_ANSWERS), routes);
  checkKeys('UPLOADS', Object.keys(UPLOADS), routes);
  checkKeys('GATEWAY_FORMS', GATEWAY_FORMS, routes);
  checkKeys('REDIRECTS', Object.keys(REDIRECTS), routes);

  for (const [path, item] of Object.entries(paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const key = `${method.toUpperCase()} ${path}`;
      const answers = routeErrorAnswers(
        key,
        path,
        operation,
        options.routeSchemas?.get(key),
        options.unthrottledPaths.includes(path),
      );
      completeTransport(key, operation);

      operation.responses ??= {};
      for (const [status, answer] of Object.entries(answers)) {
        operation.responses[status] ??= errorResponse(Number(status) as ErrorStatus, answer) as never;
      }

      for (const parameter of operation.parameters ?? []) {
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
