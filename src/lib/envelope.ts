import type { FastifyReply } from 'fastify';
import { z } from 'zod';

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
export function ok<T>(
  reply: FastifyReply,
  message: string,
  data: T,
  options: { statusCode?: number; meta: ListMeta },
): Success<T> & { meta: ListMeta };
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
  page: z.number().int(),
  limit: z.number().int(),
  total: z.number().int(),
  totalPage: z.number().int(),
});

/** Response schema of a success envelope around `data` (documents the route and strips unknown fields). */
export function successSchema<T extends z.ZodType>(data: T) {
  return z.object({
    statusCode: z.number().int(),
    success: z.literal(true),
    message: z.string(),
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
