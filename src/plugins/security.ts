import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import helmet from 'helmet';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { rateLimited } from '../lib/errors.js';

/** Operational endpoints are polled by orchestrators and must not be throttled. */
export const UNTHROTTLED_PATHS = ['/health', '/ready', '/metrics'];

/**
 * Helmet's headers for this API: its defaults, without a content security policy (JSON API: the interactive
 * docs and the local payment page set their own) and with cross-origin resources allowed (front ends on other
 * origins show the uploaded images). They never depend on the request, so helmet runs once, at start-up, on a
 * stand-in response, and each request copies the result (as lower-case names, the way replies keep them).
 */
export function securityHeaders(): [string, string][] {
  const headers: [string, string][] = [];
  const recorder = {
    setHeader(name: string, value: string) {
      headers.push([name.toLowerCase(), String(value)]);
    },
    // Helmet removes X-Powered-By, which Fastify never sets.
    removeHeader() {},
  };
  helmet({ contentSecurityPolicy: false, crossOriginResourcePolicy: { policy: 'cross-origin' } })(
    {} as IncomingMessage,
    recorder as unknown as ServerResponse,
    () => {},
  );
  return headers;
}

/** Security headers, CORS for the configured front ends, and the global rate limit. */
export async function registerSecurity(app: FastifyInstance, config: Config, redis?: Redis) {
  const headers = securityHeaders();
  // A plain callback hook: the per-request cost is one header copy per entry, not helmet's middleware chain.
  app.addHook('onRequest', (_request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    for (const [name, value] of headers) reply.header(name, value);
    done();
  });
  await app.register(cors, {
    origin: config.frontendUrls,
    credentials: true,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    allowedHeaders: ['Content-Type', 'Authorization', 'Idempotency-Key', 'X-Request-Id'],
    exposedHeaders: ['Retry-After', 'X-Request-Id'],
    maxAge: 600,
  });
  await app.register(rateLimit, {
    global: true,
    max: config.rateLimit.max,
    timeWindow: config.rateLimit.windowSeconds * 1000,
    ...(redis ? { redis, nameSpace: 'rl:' } : {}),
    allowList: (request) => UNTHROTTLED_PATHS.includes(request.url),
    errorResponseBuilder: (_request, context) => rateLimited(context.ttl / 1000),
  });
}

/** A route's own per-IP limit (route config for @fastify/rate-limit), on top of the global one. */
export interface PerIpLimit {
  rateLimit: { max: number; timeWindow: number };
}
