import type { ErrorCode, ErrorSource } from '../lib/errors.js';

/**
 * The error answers of the API description: what each status means on any route, and the examples a route's
 * own schemas give (a 400 from its own fields, a 404 naming its resource), so no route shows another's error.
 */

type Json = Record<string, unknown>;
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 502 | 503;

export interface Answer {
  description: string;
  code: ErrorCode;
  message: string;
  errorSources?: ErrorSource[];
}

export type RouteAnswers = Partial<Record<ErrorStatus, Partial<Answer>>>;

/** What each error status means on any route, with the codes it carries. */
const ANSWERS: Record<ErrorStatus, Answer & { codes: ErrorCode[] }> = {
  400: {
    description: 'The request is not valid: `errorSources` names each field (dotted path) and what is wrong.',
    codes: ['VALIDATION_ERROR'],
    code: 'VALIDATION_ERROR',
    message: 'Validation failed',
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
  413: {
    description: 'The body is larger than the server takes (`BODY_LIMIT_BYTES`).',
    codes: ['PAYLOAD_TOO_LARGE'],
    code: 'PAYLOAD_TOO_LARGE',
    message: 'Request body is too large',
  },
  415: {
    description:
      'The body is not sent as JSON (`Content-Type: application/json`), or is JSON sent as a form; ' +
      '`errorSources` names `Content-Type`.',
    codes: ['UNSUPPORTED_MEDIA_TYPE'],
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message:
      'The body is JSON but was sent as application/x-www-form-urlencoded: send it with Content-Type: application/json',
    errorSources: [
      {
        path: 'Content-Type',
        message:
          'The body is JSON but was sent as application/x-www-form-urlencoded: send it with Content-Type: application/json',
      },
    ],
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

export const ERROR_REF = '#/components/schemas/ErrorResponse';

/** The OpenAPI response of one error status, in the error envelope, with `answer` over the status's defaults. */
export function errorResponse(status: ErrorStatus, answer: Partial<Answer>) {
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

// ---- a route's own 400 --------------------------------------------------------------------------------------

/** The Zod schemas a route validates its input with, as registered (body, querystring, params, headers). */
export interface RouteSchemas {
  body?: unknown;
  querystring?: unknown;
  params?: unknown;
  headers?: unknown;
}

interface Issue {
  path: PropertyKey[];
  message: string;
}
interface Parser {
  safeParse(value: unknown): { success: boolean; error?: { issues: Issue[] } };
}
const isParser = (schema: unknown): schema is Parser =>
  typeof (schema as Parser | undefined)?.safeParse === 'function';

/**
 * Values the described schema may refuse, as a client might send them (query and path values are text). Only
 * guesses: the route's own schema decides, and the one it refuses with the fewest problems makes the example.
 */
function refusedValues(schema: Json, where: 'body' | 'query' | 'path' | 'header'): unknown[] {
  const text = where !== 'body';
  if (Array.isArray(schema.enum)) return ['unknown-value'];
  switch (schema.type) {
    case 'integer':
    case 'number':
      return ['many'];
    case 'boolean':
      return ['maybe'];
    case 'array':
      return text ? [] : ['not-a-list'];
    case 'object':
      return text ? [] : ['not-an-object'];
    case 'string': {
      const values: unknown[] = [schema.format === 'email' ? 'traveller.example.com' : 'not valid!'];
      // An empty path segment matches no route: not a request a client can send.
      if (typeof schema.minLength === 'number' && schema.minLength > 0 && where !== 'path') values.push('');
      if (typeof schema.maxLength === 'number') values.push('x'.repeat(schema.maxLength + 1));
      return values;
    }
    default:
      return [];
  }
}

/** The refusal with the fewest problems among those `values` of one field get, if any is refused. */
function clearestRefusal(
  schema: unknown,
  name: string,
  values: unknown[],
  context: string,
): Partial<Answer> | undefined {
  let best: Partial<Answer> | undefined;
  for (const value of values) {
    const answer = refusal(schema, { [name]: value }, context);
    if (answer && (!best || answer.errorSources!.length < best.errorSources!.length)) best = answer;
  }
  return best;
}

/** The error envelope's 400 for `issues`, as the error handler writes it (src/plugins/errors.ts). */
function validationAnswer(issues: Issue[], context: string): Partial<Answer> {
  const sources = issues.map((issue) => ({
    path: issue.path.map(String).join('.') || context,
    message: issue.message,
  }));
  const first = sources[0]!;
  const message =
    sources.length === 1
      ? `${first.path}: ${first.message}`
      : `Validation failed: ${sources.map((s) => s.path).join(', ')}`;
  return { message, errorSources: sources };
}

/** Runs a route's schema on `value`; the answer it would give, if it refuses it. */
function refusal(schema: unknown, value: unknown, context: string): Partial<Answer> | undefined {
  if (!isParser(schema)) return undefined;
  try {
    const result = schema.safeParse(value);
    return result.success || !result.error ? undefined : validationAnswer(result.error.issues, context);
  } catch {
    // An asynchronous refinement cannot run here: no example from this schema.
    return undefined;
  }
}

interface Parameter {
  in: string;
  name: string;
  schema?: unknown;
}

/**
 * The 400 a route really answers, found by running its own schemas: the body of an empty JSON object when that
 * is refused (every missing required field is named), else one field with a value it refuses; then the query,
 * the path and the headers the same way. Undefined when no refused input was found.
 */
export function routeValidationAnswer(
  schemas: RouteSchemas | undefined,
  body: Json | undefined,
  parameters: Parameter[],
): Partial<Answer> | undefined {
  if (!schemas) return undefined;
  if (body) {
    const empty = refusal(schemas.body, {}, 'body');
    if (empty) return empty;
    for (const [name, property] of Object.entries((body.properties as Json | undefined) ?? {})) {
      const answer = clearestRefusal(schemas.body, name, refusedValues(property as Json, 'body'), 'body');
      if (answer) return answer;
    }
  }
  const kinds = [
    ['query', schemas.querystring, 'querystring'],
    ['path', schemas.params, 'params'],
    ['header', schemas.headers, 'headers'],
  ] as const;
  for (const [where, schema, context] of kinds) {
    for (const parameter of parameters.filter((p) => p.in === where)) {
      const values = refusedValues((parameter.schema ?? {}) as Json, where);
      const answer = clearestRefusal(schema, parameter.name, values, context);
      if (answer) return answer;
    }
  }
  return undefined;
}

// ---- a route's own 404 --------------------------------------------------------------------------------------

/** Path segments and parameter names → the resource a 404 says is missing, as the services word it. */
const RESOURCES: Record<string, string> = {
  tour: 'Tour',
  tourId: 'Tour',
  'tour-types': 'Tour type',
  division: 'Division',
  departures: 'Departure',
  booking: 'Booking',
  bookingId: 'Booking',
  user: 'User',
  waitlist: 'Waitlist entry',
  reviews: 'Review',
  refunds: 'Refund',
  sessions: 'Session',
  paymentId: 'Payment',
  'local-gateway': 'Payment',
};

/**
 * "Tour not found" for /tour/{id}, "Booking not found" for /booking/{bookingId}/cancel: the resource of the
 * route's first path parameter, named by the parameter or by the segment before it.
 */
export function notFoundAnswer(path: string): Partial<Answer> | undefined {
  const segments = path.split('/').filter(Boolean);
  const index = segments.findIndex((s) => s.startsWith('{'));
  if (index < 0) return undefined;
  const parameter = segments[index]!.slice(1, -1);
  const resource = RESOURCES[parameter] ?? RESOURCES[segments[index - 1] ?? ''];
  return resource ? { message: `${resource} not found` } : undefined;
}
