import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { DatabaseHandle } from '../../db/client.js';
import { ok, successSchema } from '../../lib/envelope.js';
import { serviceUnavailable } from '../../lib/errors.js';
import { API_INFO } from '../../plugins/docs.js';

export const healthRoutes: FastifyPluginAsyncZod<{ database: DatabaseHandle; publicUrl: string }> = async (
  app,
  { database, publicUrl: base },
) => {
  app.get(
    '/',
    {
      schema: {
        tags: ['Operations'],
        summary: 'Welcome message',
        response: { 200: z.object({ message: z.string() }) },
      },
    },
    async () => ({ message: 'Welcome To Tour Management System' }),
  );

  app.get(
    '/api/v1',
    {
      schema: {
        tags: ['Operations'],
        summary: 'API index: name, version and where its description lives',
        response: {
          200: successSchema(
            z.object({
              name: z.string(),
              version: z.string(),
              docs: z.string(),
              openapi: z.string(),
              health: z.string(),
            }),
          ),
        },
      },
    },
    async (_request, reply) =>
      ok(reply, `${API_INFO.title} v1`, {
        name: API_INFO.title,
        version: API_INFO.version,
        docs: `${base}/docs`,
        openapi: `${base}/openapi.json`,
        health: `${base}/health`,
      }),
  );

  app.get(
    '/health',
    {
      schema: {
        tags: ['Operations'],
        summary: 'Liveness probe',
        response: { 200: successSchema(z.object({ status: z.literal('ok'), uptimeSeconds: z.number() })) },
      },
    },
    async (_request, reply) =>
      ok(reply, 'Server is alive', { status: 'ok' as const, uptimeSeconds: Math.round(process.uptime()) }),
  );

  app.get(
    '/ready',
    {
      schema: {
        tags: ['Operations'],
        summary: 'Readiness probe: the database answers',
        response: { 200: successSchema(z.object({ status: z.literal('ready'), database: z.string() })) },
      },
    },
    async (_request, reply) => {
      try {
        await Promise.race([
          database.ping(),
          new Promise((_, reject) => setTimeout(() => reject(new Error('ping timeout')), 2000).unref()),
        ]);
      } catch {
        throw serviceUnavailable('Database is not reachable');
      }
      return ok(reply, 'Server is ready', { status: 'ready' as const, database: database.kind });
    },
  );
};
