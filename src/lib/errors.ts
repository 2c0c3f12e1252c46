/** Errors are values of a few kinds; the error plugin maps each kind to the envelope. */
export const ERROR_CODES = [
  'VALIDATION_ERROR',
  'UNAUTHENTICATED',
  'TOKEN_EXPIRED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'IDEMPOTENCY_MISMATCH',
  'RATE_LIMITED',
  'PAYMENT_NOT_VERIFIED',
  'SOLD_OUT',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'UPSTREAM_ERROR',
  'SERVICE_UNAVAILABLE',
  'INTERNAL_ERROR',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorSource {
  path: string;
  message: string;
}

export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    readonly errorSources: ErrorSource[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** A 400 naming one field; `path` is the dotted field path. */
export const validationError = (path: string, message: string) =>
  new AppError(400, 'VALIDATION_ERROR', message, [{ path, message }]);
export const notFound = (message = 'Resource not found') => new AppError(404, 'NOT_FOUND', message);
export const conflict = (message: string, code: ErrorCode = 'CONFLICT') => new AppError(409, code, message);
export const unauthenticated = (message = 'Authentication required', code: ErrorCode = 'UNAUTHENTICATED') =>
  new AppError(401, code, message);
export const forbidden = (message = 'You are not permitted to access this resource') =>
  new AppError(403, 'FORBIDDEN', message);
export const rateLimited = (retryAfterSeconds: number, message = 'Too many requests, try again later') =>
  new AppError(429, 'RATE_LIMITED', message, [], {
    'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))),
  });
export const upstreamError = (message: string) => new AppError(502, 'UPSTREAM_ERROR', message);
export const serviceUnavailable = (message = 'Service temporarily unavailable') =>
  new AppError(503, 'SERVICE_UNAVAILABLE', message);
