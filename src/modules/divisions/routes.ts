import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../../config.js';
import { flatListSchema, ok, successSchema } from '../../lib/envelope.js';
import { acceptImageUploads, registerUploadRoutes, uploadedImages } from '../../lib/uploads.js';
import type { AuthGuard } from '../../plugins/auth-guard.js';
import { SIGNED_IN as security } from '../../plugins/docs.js';
import {
  createDivisionBody,
  divisionIdParams,
  divisionListItemSchema,
  divisionListQuery,
  divisionSchema,
  divisionSlugParams,
  updateDivisionBody,
} from './schemas.js';
import type { DivisionService } from './service.js';

const tags = ['Divisions'];
const multipartNote =
  'JSON, or multipart/form-data with a text field `data` holding the JSON and an optional image `file` (JPEG, PNG or WebP).';

export interface DivisionRoutesOptions {
  divisions: DivisionService;
  guard: AuthGuard;
  config: Config;
}

export const divisionRoutes: FastifyPluginAsyncZod<DivisionRoutesOptions> = async (
  app,
  { divisions, guard, config },
) => {
  const admin = guard.requireAuth('ADMIN', 'SUPER_ADMIN');
  // The guard runs before the upload is read, so strangers cannot make the server buffer files.
  const adminWithThumbnail = [
    admin,
    acceptImageUploads({ field: 'file', maxFiles: 1, maxFileBytes: config.uploads.maxFileBytes }),
  ];

  await registerUploadRoutes(app, config, (scope) => {
    scope.post(
      '/create',
      {
        preValidation: adminWithThumbnail,
        schema: {
          security,
          tags,
          summary: 'Create a division',
          description: multipartNote,
          body: createDivisionBody,
          response: { 201: successSchema(divisionSchema) },
        },
      },
      async (request, reply) =>
        ok(reply, 'Division created', await divisions.create(request.body, uploadedImages(request)), {
          statusCode: 201,
        }),
    );
  });

  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'List divisions',
        description:
          'Searchable by name and description; filters `_id`, `name`, `slug`; sortable by createdAt, name.',
        querystring: divisionListQuery,
        response: { 200: flatListSchema(divisionListItemSchema) },
      },
    },
    async (request, reply) => {
      const { items, meta } = await divisions.list(request.query);
      return ok(reply, 'Divisions retrieved', items, { meta });
    },
  );

  app.get(
    '/:slug',
    {
      schema: {
        tags,
        summary: 'Get a division by slug',
        params: divisionSlugParams,
        response: { 200: successSchema(divisionSchema) },
      },
    },
    async (request, reply) => ok(reply, 'Division retrieved', await divisions.getBySlug(request.params.slug)),
  );

  await registerUploadRoutes(app, config, (scope) => {
    scope.patch(
      '/:id',
      {
        preValidation: adminWithThumbnail,
        schema: {
          security,
          tags,
          summary: 'Update a division',
          description: `${multipartNote} A new file replaces the thumbnail.`,
          params: divisionIdParams,
          body: updateDivisionBody,
          response: { 200: successSchema(divisionSchema) },
        },
      },
      async (request, reply) =>
        ok(
          reply,
          'Division updated',
          await divisions.update(request.params.id, request.body, uploadedImages(request)),
        ),
    );
  });

  app.delete(
    '/:id',
    {
      preValidation: admin,
      schema: {
        security,
        tags,
        summary: 'Delete a division without tours',
        params: divisionIdParams,
        response: { 200: successSchema(z.null()) },
      },
    },
    async (request, reply) => {
      await divisions.remove(request.params.id);
      return ok(reply, 'Division deleted', null);
    },
  );
};
