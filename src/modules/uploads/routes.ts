import path from 'node:path';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFound } from '../../lib/errors.js';
import type { Storage } from '../../lib/storage/storage.js';
import { isSafeKeyPart } from '../../lib/storage/storage.js';

const IMAGE_TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
};

/** Serves public images from storage. Only the `images/` prefix is public; invoices are not. */
export const uploadsRoutes: FastifyPluginAsyncZod<{ storage: Storage }> = async (app, { storage }) => {
  app.get(
    '/uploads/images/:name',
    {
      schema: {
        hide: true,
        params: z.object({
          // Exactly the names storage accepts, so a stored image is always served and storage never refuses.
          name: z.string().max(200).refine(isSafeKeyPart, 'Not the name of a stored image'),
        }),
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      const type = IMAGE_TYPES[path.extname(name).toLowerCase()];
      const body = type ? await storage.get(`images/${name}`) : undefined;
      if (!type || !body) throw notFound('File not found');
      reply.header('cache-control', 'public, max-age=31536000, immutable').type(type);
      return reply.send(body);
    },
  );
};
