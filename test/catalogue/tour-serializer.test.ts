import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { seedDemoCatalogue } from '../../src/db/seed-demo.js';
import { flatListSchema, nestedListSchema, successSchema } from '../../src/lib/envelope.js';
import { compiledSerializer } from '../../src/lib/response-serializer.js';
import {
  tourListItemSchema,
  tourListQuery,
  tourSchema,
  tourTypeListItemSchema,
  tourTypeListQuery,
  tourTypeSchema,
} from '../../src/modules/tours/schemas.js';
import { buildServices } from '../../src/services.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTour } from '../helpers/catalogue.js';

// The tour reads answer through serializers compiled from their schemas instead of the Zod check; whatever
// a tour route answers must come out of both the same.
let t: TestApp;
let services: ReturnType<typeof buildServices>;

beforeAll(async () => {
  t = await buildTestApp();
  // Rated past trips, cancellation policies and upcoming departures, plus a tour with every nullable field null.
  await seedDemoCatalogue(t.ctx.db, t.ctx.storage, t.ctx.clock);
  await createTour(t.ctx, {
    description: null,
    costFromMinor: null,
    maxGuest: null,
    minAge: null,
    location: null,
    cancellationPolicy: [],
  });
  services = buildServices(t.ctx, t.app.log);
});
afterAll(() => t.close());

const envelope = (message: string, data: unknown, extra: Record<string, unknown> = {}) => ({
  statusCode: 200,
  success: true,
  message,
  data,
  ...extra,
});

/** Both serializers' output for one response: the Zod check's (as before) and the compiled one's. */
function bothWays(schema: z.ZodType, payload: unknown) {
  const route = { schema, method: 'GET', url: '/api/v1/tour', httpStatus: '200' };
  const before = zodSerializerCompiler(route)(payload);
  const after = compiledSerializer(route)(payload);
  return { before: JSON.parse(before), after: JSON.parse(after) };
}

const LIST_QUERIES: Record<string, string>[] = [
  {},
  { limit: '100' },
  { limit: '100', sort: '-costFrom' },
  { fields: '_id,title,rating,startDate,nextDeparture' },
  { fields: 'description,costFrom,maxGuest,cancellationPolicy,password', limit: '100' },
  { searchTerm: 'tour', sort: 'startDate', limit: '100' },
];

describe('compiled response serializers', () => {
  it('write every tour list, projected or not, as the Zod check did, unknown keys dropped', async () => {
    for (const query of LIST_QUERIES) {
      const { items, meta } = await services.tours.list(tourListQuery.parse(query));
      expect(items.length).toBeGreaterThan(0);
      // Keys the schema does not know, at every level, are dropped by both.
      const withExtras = items.map((item) => ({
        ...item,
        secret: 'x',
        ...(item.rating && { rating: { ...item.rating, sum: 1 } }),
      }));
      for (const data of [items, withExtras]) {
        const { before, after } = bothWays(
          flatListSchema(tourListItemSchema),
          envelope('Tours retrieved', data, { meta: { ...meta, extra: 1 }, stray: true }),
        );
        expect(after).toStrictEqual(before);
      }
    }
  });

  it('write every tour as the Zod check did, nulls and empty lists included', async () => {
    const { items } = await services.tours.list(tourListQuery.parse({ limit: '100' }));
    expect(items.length).toBe(28);
    const shapes = { nulls: 0, rated: 0, policies: 0 };
    for (const { slug } of items) {
      const tour = await services.tours.getBySlug(slug as string);
      if (tour.description === null && tour.costFrom === null && tour.maxGuest === null) shapes.nulls++;
      if (tour.rating.average !== null) shapes.rated++;
      if (tour.cancellationPolicy.length > 0) shapes.policies++;
      const { before, after } = bothWays(
        successSchema(tourSchema),
        envelope('Tour retrieved', { ...tour, legacyField: 'x' }),
      );
      expect(after).toStrictEqual(before);
      expect(Object.keys(after.data)).toEqual(Object.keys(tourSchema.shape));
    }
    expect(shapes.nulls).toBe(1);
    expect(shapes.rated).toBeGreaterThan(0);
    expect(shapes.policies).toBeGreaterThan(0);
  });

  it('write the tour types as the Zod check did', async () => {
    const { items, meta } = await services.tourTypes.list(tourTypeListQuery.parse({}));
    const one = await services.tourTypes.get(items[0]!._id);
    for (const [schema, payload] of [
      [nestedListSchema(tourTypeListItemSchema), envelope('Tour types retrieved', { data: items, meta })],
      [successSchema(tourTypeSchema), envelope('Tour type retrieved', { ...one, extra: 1 })],
    ] as const) {
      const { before, after } = bothWays(schema, payload);
      expect(after).toStrictEqual(before);
    }
  });

  it('are what GET /tour and GET /tour/:slug answer with', async () => {
    for (const query of LIST_QUERIES) {
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/tour', query });
      expect(res.statusCode).toBe(200);
      const { items, meta } = await services.tours.list(tourListQuery.parse(query));
      const { before } = bothWays(
        flatListSchema(tourListItemSchema),
        envelope('Tours retrieved', items, { meta }),
      );
      expect(res.json()).toStrictEqual(before);
    }
    const [first] = (await services.tours.list(tourListQuery.parse({}))).items;
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/tour/${first!.slug}` });
    const { before } = bothWays(
      successSchema(tourSchema),
      envelope('Tour retrieved', await services.tours.getBySlug(first!.slug as string)),
    );
    expect(res.json()).toStrictEqual(before);
  });

  it('refuse a schema JSON cannot describe when the route is compiled', async () => {
    const { z: zod } = await import('zod');
    const transformed = zod.object({ at: zod.date().transform((d) => d.getTime()) });
    expect(() => compiledSerializer({ schema: transformed })).toThrow();
  });
});
