import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { rateLimited } from '../lib/errors.js';

/** Operational endpoints are polled by orchestrators and must not be throttled. */
export const UNTHROTTLED_PATHS = ['/health', '/ready', '/metrics'];

/** Security headers, CORS for the configured front ends, and the global rate limit. */
export async function registerSecurity(app: FastifyInstance, config: Config, redis?: Redis) {
  await app.register(helmet, {
    // JSON API: the interactive docs and the local payment page set their own policies.
    contentSecurityPolicy: false,
    // Uploaded images are displayed by front ends on other origins.
    crossOriginResourcePolicy: { policy: 'cross-origin' },
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
