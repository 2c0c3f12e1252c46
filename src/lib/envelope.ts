import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { ERROR_CODES } from './errors.js';

export interface ListMeta {
  page: number;
  limit: number;
  total: number;
  totalPage: number;
}

interface Success<T> {
  statusCode: number;
  success: true;
  message: string;
  data: T;
}

/** Success envelope: `{ statusCode, success: true, message, data, meta? }`, HTTP status = statusCode. */
export function ok<T, M extends ListMeta>(
  reply: FastifyReply,
  message: string,
  data: T,
  options: { statusCode?: number; meta: M },
): Success<T> & { meta: M };
export function ok<T>(
  reply: FastifyReply,
  message: string,
  data: T,
  options?: { statusCode?: number },
): Success<T>;
export function ok<T>(
  reply: FastifyReply,
  message: string,
  data: T,
  options: { statusCode?: number; meta?: ListMeta } = {},
): Success<T> & { meta?: ListMeta } {
  const statusCode = options.statusCode ?? 200;
  reply.code(statusCode);
  return options.meta === undefined
    ? { statusCode, success: true, message, data }
    : { statusCode, success: true, message, data, meta: options.meta };
}

export const listMetaSchema = z.object({
  page: z.number().int().meta({ example: 1 }),
  limit: z.number().int().meta({ example: 10 }),
  total: z.number().int().meta({ example: 42 }),
  totalPage: z.number().int().meta({ example: 5 }),
});

/** Response schema of a success envelope around `data` (documents the route and strips unknown fields). */
export function successSchema<T extends z.ZodType>(data: T) {
  return z.object({
    statusCode: z.number().int().meta({ example: 200 }),
    success: z.literal(true),
    message: z.string().meta({ example: 'Request completed successfully' }),
    data,
  });
}

/** Legacy flat list: `data: [...]` with `meta` at the top level. */
export function flatListSchema<T extends z.ZodType>(item: T) {
  return successSchema(z.array(item)).extend({ meta: listMetaSchema });
}

/** Legacy nested list: `data: { data: [...], meta }`. */
export function nestedListSchema<T extends z.ZodType>(item: T) {
  return successSchema(z.object({ data: z.array(item), meta: listMetaSchema }));
}

export const errorSchema = z.object({
  statusCode: z.number().int().meta({ example: 400 }),
  success: z.literal(false),
  message: z.string().meta({ example: 'email: Invalid email address' }),
  /** Stable and machine-readable; the message is for people. */
  code: z.enum(ERROR_CODES).meta({ example: 'VALIDATION_ERROR' }),
  errorSources: z
    .array(z.object({ path: z.string(), message: z.string() }))
    .meta({ example: [{ path: 'email', message: 'Invalid email address' }] }),
  /** On 5xx answers: quote it when reporting the problem (also in the X-Request-Id header). */
  requestId: z.string().optional().meta({ example: '01936f3e-8a4b-7c2d-9e1f-2a3b4c5d6e7f' }),
});
