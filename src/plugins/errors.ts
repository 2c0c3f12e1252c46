import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { describePgError, isUnavailableCode } from '../db/pg-errors.js';
import { AppError, type ErrorCode, type ErrorSource } from '../lib/errors.js';
import { recordErrorCode } from './request-log.js';

interface ErrorBody {
  statusCode: number;
  success: false;
  message: string;
  code: ErrorCode;
  errorSources: ErrorSource[];
  requestId?: string;
}

// Constraint name → the API field it protects, so a 409 names the field rather than the index.
const UNIQUE_FIELDS: Record<string, string> = {
  users_email_key: 'email',
  divisions_name_key: 'name',
  divisions_slug_key: 'slug',
  tour_types_name_key: 'name',
  tours_slug_key: 'slug',
  payments_transaction_id_key: 'transactionId',
};

// Data exceptions caused by a value the client sent (malformed text, NUL bytes, out-of-range numbers or dates).
const INVALID_VALUE_CODES = new Set([
  '22P02', // invalid text representation
  '22007', // invalid datetime format
  '22008', // datetime field overflow
  '22003', // numeric value out of range
  '22021', // character not in repertoire: a NUL byte in text
  '22P05', // untranslatable character
  '22001', // string data right truncation
]);

function fromValidation(error: FastifyError & { validationContext?: string }): ErrorBody {
  const context = error.validationContext ?? 'body';
  const sources: ErrorSource[] = (error.validation ?? []).map((v) => {
    const path = (v.instancePath ?? '').replace(/^\//, '').split('/').filter(Boolean).join('.');
    return { path: path || context, message: v.message ?? 'Invalid value' };
  });
  const first = sources[0];
  const message = first
    ? sources.length === 1
      ? `${first.path}: ${first.message}`
      : `Validation failed: ${sources.map((s) => s.path).join(', ')}`
    : 'Validation failed';
  return { statusCode: 400, success: false, message, code: 'VALIDATION_ERROR', errorSources: sources };
}

const CONTENT_TYPE = 'Content-Type';

/** The media type of a request without its parameters, lower-cased; '' when there is none. */
function mediaType(request: FastifyRequest): string {
  const header = request.headers['content-type'];
  return typeof header === 'string' ? (header.split(';', 1)[0] ?? '').trim().toLowerCase() : '';
}

/** A media type as an answer may repeat it: only a short `type/subtype` token, never arbitrary client text. */
const MEDIA_TYPE_TOKEN = /^[a-z0-9][\w.+-]{0,62}\/[a-z0-9][\w.+-]{0,62}$/;

function unsupportedMediaType(message: string): ErrorBody {
  return {
    statusCode: 415,
    success: false,
    message,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    errorSources: [{ path: CONTENT_TYPE, message }],
  };
}

/**
 * A body that failed validation because of how it was sent, not what it says: text, a multipart body on a
 * route that takes none, or JSON sent as a form (what `curl -d` does without a Content-Type). Its fields would
 * otherwise be reported missing, which sends the client looking in the wrong place.
 */
function contentTypeProblem(request: FastifyRequest): ErrorBody | undefined {
  const type = mediaType(request);
  if (type === '' || type === 'application/json' || type.endsWith('+json')) return undefined;
  const body: unknown = request.body;
  const jsonAsForm =
    type === 'application/x-www-form-urlencoded' &&
    typeof body === 'object' &&
    body !== null &&
    Object.keys(body).some((key) => /^\s*[[{]/.test(key));
  if (jsonAsForm) {
    return unsupportedMediaType(
      'The body is JSON but was sent as application/x-www-form-urlencoded: send it with Content-Type: application/json',
    );
  }
  if (typeof body === 'object' && body !== null) return undefined;
  return unsupportedMediaType(
    `This route does not read ${MEDIA_TYPE_TOKEN.test(type) ? `a ${type} body` : 'a body of this type'}: ` +
      'send it as JSON with Content-Type: application/json',
  );
}

/** Maps any thrown value to the error envelope; exported for the few places that answer errors by hand. */
export function toErrorBody(
  error: unknown,
  request: FastifyRequest,
): { body: ErrorBody; headers: Record<string, string> } {
  if (error instanceof AppError) {
    return {
      body: {
        statusCode: error.statusCode,
        success: false,
        message: error.message,
        code: error.code,
        errorSources: error.errorSources,
      },
      headers: error.headers,
    };
  }
  const fe = error as FastifyError & { validationContext?: string };
  if (hasZodFastifySchemaValidationErrors(fe) || (fe.validation && fe.statusCode === 400)) {
    const wrongType = (fe.validationContext ?? 'body') === 'body' ? contentTypeProblem(request) : undefined;
    return { body: wrongType ?? fromValidation(fe), headers: {} };
  }
  const db = describePgError(error);
  if (db?.code === '23505') {
    const field = (db.constraint && UNIQUE_FIELDS[db.constraint]) ?? '';
    const message = field ? `${field} already exists` : 'Resource already exists';
    return {
      body: {
        statusCode: 409,
        success: false,
        message,
        code: 'CONFLICT',
        errorSources: [{ path: field, message }],
      },
      headers: {},
    };
  }
  if (db?.code === '23503') {
    const message = 'The resource is referenced by other records';
    return {
      body: { statusCode: 409, success: false, message, code: 'CONFLICT', errorSources: [] },
      headers: {},
    };
  }
  if (db?.code && INVALID_VALUE_CODES.has(db.code)) {
    const message = 'Invalid value in request';
    return {
      body: { statusCode: 400, success: false, message, code: 'VALIDATION_ERROR', errorSources: [] },
      headers: {},
    };
  }
  if (db?.code && isUnavailableCode(db.code)) {
    request.log.warn({ err: error }, 'database unavailable');
    const message = 'Service temporarily unavailable, please retry';
    return {
      body: {
        statusCode: 503,
        success: false,
        message,
        code: 'SERVICE_UNAVAILABLE',
        errorSources: [],
        requestId: request.id,
      },
      headers: { 'retry-after': '5' },
    };
  }
  if (
    !isResponseSerializationError(error) &&
    typeof fe.statusCode === 'number' &&
    fe.statusCode >= 400 &&
    fe.statusCode < 500
  ) {
    const code: ErrorCode =
      fe.statusCode === 413
        ? 'PAYLOAD_TOO_LARGE'
        : fe.statusCode === 415
          ? 'UNSUPPORTED_MEDIA_TYPE'
          : fe.statusCode === 429
            ? 'RATE_LIMITED'
            : fe.statusCode === 404
              ? 'NOT_FOUND'
              : 'VALIDATION_ERROR';
    if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      const type = mediaType(request);
      return {
        body: unsupportedMediaType(
          type
            ? `${MEDIA_TYPE_TOKEN.test(type) ? `Content-Type ${type} is` : 'This Content-Type is'} not accepted ` +
                'here: send the body as JSON with Content-Type: application/json'
            : 'The request has a body but no Content-Type: send it as JSON with Content-Type: application/json',
        ),
        headers: {},
      };
    }
    const message =
      fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError
        ? 'Malformed JSON in request body'
        : fe.message;
    return {
      body: { statusCode: fe.statusCode, success: false, message, code, errorSources: [] },
      headers: {},
    };
  }
  request.log.error({ err: error }, 'unhandled error');
  return {
    body: {
      statusCode: 500,
      success: false,
      message: 'Something went wrong',
      code: 'INTERNAL_ERROR',
      errorSources: [],
      requestId: request.id,
    },
    headers: {},
  };
}

export function sendError(reply: FastifyReply, error: unknown) {
  const { body, headers } = toErrorBody(error, reply.request);
  recordErrorCode(reply, body.code);
  reply.headers(headers).code(body.statusCode).type('application/json; charset=utf-8');
  return reply.send(body);
}

export function registerErrorHandling(app: FastifyInstance) {
  app.setErrorHandler((error, _request, reply) => sendError(reply, error));
  app.setNotFoundHandler((request, reply) => {
    recordErrorCode(reply, 'NOT_FOUND');
    reply.code(404).send({
      statusCode: 404,
      success: false,
      message: 'Route Not Found',
      code: 'NOT_FOUND',
      errorSources: [
        { path: request.url.split('?')[0] ?? '', message: 'No route matches this method and path' },
      ],
    });
  });
}
