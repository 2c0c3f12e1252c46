import type { FastifyPluginAsyncZod, ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../../config.js';
import { flatListSchema, nestedListSchema, ok, successSchema } from '../../lib/envelope.js';
import { compiledSerializer } from '../../lib/response-serializer.js';
import { acceptImageUploads, registerUploadRoutes, uploadedImages } from '../../lib/uploads.js';
import type { AuthGuard } from '../../plugins/auth-guard.js';
import { SIGNED_IN as security } from '../../plugins/docs.js';
import {
  createTourBody,
  idParams,
  slugParams,
  tourListItemSchema,
  tourListQuery,
  tourSchema,
  tourTypeBody,
  tourTypeListItemSchema,
  tourTypeListQuery,
  tourTypeSchema,
  updateTourBody,
} from './schemas.js';
import type { TourService } from './service.js';
import type { TourTypeService } from './tour-type-service.js';

const tourTags = ['Tours'];
const typeTags = ['Tour types'];
const multipartNote =
  'JSON, or multipart/form-data with a text field `data` holding the JSON and image `files` (JPEG, PNG or WebP).';

/** Tours and tour types under /tour. Static paths (`/tour-types`, `/create`) win over `/:slug`. */
export interface TourRoutesOptions {
  tours: TourService;
  tourTypes: TourTypeService;
  guard: AuthGuard;
  config: Config;
}

export const tourRoutes: FastifyPluginAsyncZod<TourRoutesOptions> = async (
  app,
  { tours, tourTypes, guard, config },
) => {
  const admin = guard.requireAuth('ADMIN', 'SUPER_ADMIN');
  // The guard runs before the upload is read, so strangers cannot make the server buffer files.
  const adminWithImages = [
    admin,
    acceptImageUploads({
      field: 'files',
      maxFiles: config.uploads.maxFiles,
      maxFileBytes: config.uploads.maxFileBytes,
    }),
  ];

  // ---- Tour types ----

  app.post(
    '/create-tour-type',
    {
      preValidation: admin,
      schema: {
        security,
        tags: typeTags,
        summary: 'Create a tour type',
        body: tourTypeBody,
        response: { 201: successSchema(tourTypeSchema) },
      },
    },
    async (request, reply) =>
      ok(reply, 'Tour type created', await tourTypes.create(request.body.name), { statusCode: 201 }),
  );

  app.get(
    '/tour-types',
    {
      schema: {
        tags: typeTags,
        summary: 'List tour types (nested legacy shape: data.data and data.meta)',
        querystring: tourTypeListQuery,
        response: { 200: nestedListSchema(tourTypeListItemSchema) },
      },
    },
    async (request, reply) => {
      const { items, meta } = await tourTypes.list(request.query);
      return ok(reply, 'Tour types retrieved', { data: items, meta });
    },
  );

  app.get(
    '/tour-types/:id',
    {
      schema: {
        tags: typeTags,
        summary: 'Get a tour type',
        params: idParams,
        response: { 200: successSchema(tourTypeSchema) },
      },
    },
    async (request, reply) => ok(reply, 'Tour type retrieved', await tourTypes.get(request.params.id)),
  );

  app.patch(
    '/tour-types/:id',
    {
      preValidation: admin,
      schema: {
        security,
        tags: typeTags,
        summary: 'Rename a tour type',
        params: idParams,
        body: tourTypeBody,
        response: { 200: successSchema(tourTypeSchema) },
      },
    },
    async (request, reply) =>
      ok(reply, 'Tour type updated', await tourTypes.rename(request.params.id, request.body.name)),
  );

  // Its own scope, whose only body parser discards whatever arrives: legacy clients send the id as a
  // text/plain body, others may send anything, and none of it may turn the delete into a 400. Fastify reads
  // the body for the parser, so the body limit holds (413 past it); the guard runs on the request line,
  // so strangers get their 401 or 403 before any of the body is read.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) => done(null, undefined));
    scope.withTypeProvider<ZodTypeProvider>().delete(
      '/tour-types/:id',
      {
        onRequest: admin,
        schema: {
          security,
          tags: typeTags,
          summary: 'Delete a tour type no tour uses',
          description: 'Any request body (legacy clients send the id as text/plain) is ignored.',
          params: idParams,
          response: { 200: successSchema(z.null()) },
        },
      },
      async (request, reply) => {
        await tourTypes.remove(request.params.id);
        return ok(reply, 'Tour type deleted', null);
      },
    );
  });

  // ---- Tours ----

  await registerUploadRoutes(app, config, (scope) => {
    scope.post(
      '/create',
      {
        preValidation: adminWithImages,
        schema: {
          security,
          tags: tourTags,
          summary: 'Create a tour',
          description: multipartNote,
          body: createTourBody,
          response: { 201: successSchema(tourSchema) },
        },
      },
      async (request, reply) =>
        ok(reply, 'Tour created successfully', await tours.create(request.body, uploadedImages(request)), {
          statusCode: 201,
        }),
    );
  });

  // The two hottest reads: serialised by schemas compiled once rather than checked per response.
  app.get(
    '/',
    {
      serializerCompiler: compiledSerializer,
      schema: {
        tags: tourTags,
        summary: 'List tours',
        description:
          'Searchable by title, description, location; filters `_id`, `division`, `tourType`, `location`, `slug`, ' +
          'and `departureFrom`/`departureTo` (ISO dates: tours with a SCHEDULED departure starting in that range); ' +
          "sortable by createdAt, costFrom, startDate (the next bookable departure's), title. `startDate`, " +
          "`endDate` and `availableSeats` describe the tour's next bookable departure (else its latest).",
        querystring: tourListQuery,
        response: { 200: flatListSchema(tourListItemSchema) },
      },
    },
    async (request, reply) => {
      const { items, meta } = await tours.list(request.query);
      return ok(reply, 'Tours retrieved', items, { meta });
    },
  );

  app.get(
    '/:slug',
    {
      serializerCompiler: compiledSerializer,
      schema: {
        tags: tourTags,
        summary: 'Get a tour by slug',
        params: slugParams,
        response: { 200: successSchema(tourSchema) },
      },
    },
    async (request, reply) => ok(reply, 'Tour retrieved', await tours.getBySlug(request.params.slug)),
  );

  await registerUploadRoutes(app, config, (scope) => {
    scope.patch(
      '/:id',
      {
        preValidation: adminWithImages,
        schema: {
          security,
          tags: tourTags,
          summary: 'Update a tour',
          description: `${multipartNote} \`images\` lists the existing URLs to keep (absent: keep all), \`deleteImages\` the ones to remove; new files are added.`,
          params: idParams,
          body: updateTourBody,
          response: { 200: successSchema(tourSchema) },
        },
      },
      async (request, reply) =>
        ok(
          reply,
          'Tour updated',
          await tours.update(request.params.id, request.body, uploadedImages(request)),
        ),
    );
  });

  app.delete(
    '/:id',
    {
      preValidation: admin,
      schema: {
        security,
        tags: tourTags,
        summary: 'Delete a tour without pending or paid bookings',
        params: idParams,
        response: { 200: successSchema(z.null()) },
      },
    },
    async (request, reply) => {
      await tours.remove(request.params.id);
      return ok(reply, 'Tour deleted', null);
    },
  );
};
