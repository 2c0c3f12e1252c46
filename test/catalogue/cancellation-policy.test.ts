import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createDivision, createTourType } from '../helpers/catalogue.js';
import { createUser, type TestUser } from '../helpers/factories.js';

let t: TestApp;
let admin: TestUser;
let division: string;
let tourType: string;

beforeAll(async () => {
  t = await buildTestApp();
  admin = await createUser(t.ctx, { role: 'ADMIN' });
  division = (await createDivision(t.ctx)).id;
  tourType = (await createTourType(t.ctx)).id;
});
afterAll(() => t?.close());

const DEFAULT_POLICY = [
  { hoursBefore: 168, refundPercent: 100 },
  { hoursBefore: 48, refundPercent: 50 },
  { hoursBefore: 0, refundPercent: 0 },
];

let n = 0;
const create = (extra: Record<string, unknown> = {}) =>
  t.app.inject({
    method: 'POST',
    url: '/api/v1/tour/create',
    headers: admin.auth,
    payload: {
      title: `Policy Tour ${++n}`,
      costFrom: 1000,
      startDate: '2030-01-01',
      endDate: '2030-01-03',
      division,
      tourType,
      ...extra,
    },
  });

describe('tour cancellation policies', () => {
  it('default to 100% up to a week before, 50% up to two days, nothing after, in every tour shape', async () => {
    const res = await create();
    expect(res.statusCode).toBe(201);
    const tour = res.json().data;
    expect(tour.cancellationPolicy).toEqual(DEFAULT_POLICY);
    const bySlug = await t.app.inject({ method: 'GET', url: `/api/v1/tour/${tour.slug}` });
    expect(bySlug.json().data.cancellationPolicy).toEqual(DEFAULT_POLICY);
    const list = await t.app.inject({ method: 'GET', url: `/api/v1/tour?_id=${tour._id}` });
    expect(list.json().data[0].cancellationPolicy).toEqual(DEFAULT_POLICY);
  });

  it('are set on create and on update, kept longest notice first', async () => {
    const res = await create({
      cancellationPolicy: [
        { hoursBefore: 24, refundPercent: 25.5 },
        { hoursBefore: 720, refundPercent: 100 },
      ],
    });
    expect(res.statusCode).toBe(201);
    expect(res.json().data.cancellationPolicy).toEqual([
      { hoursBefore: 720, refundPercent: 100 },
      { hoursBefore: 24, refundPercent: 25.5 },
    ]);
    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/tour/${res.json().data._id}`,
      headers: admin.auth,
      payload: { cancellationPolicy: [] },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json().data.cancellationPolicy).toEqual([]);
  });

  it.each([
    ['cancellationPolicy.0.hoursBefore', [{ hoursBefore: -1, refundPercent: 10 }]],
    ['cancellationPolicy.0.hoursBefore', [{ hoursBefore: 1.5, refundPercent: 10 }]],
    ['cancellationPolicy.0.refundPercent', [{ hoursBefore: 1, refundPercent: 101 }]],
    ['cancellationPolicy.0.refundPercent', [{ hoursBefore: 1, refundPercent: -5 }]],
    ['cancellationPolicy.0.refundPercent', [{ hoursBefore: 1 }]],
    [
      'cancellationPolicy.1.hoursBefore',
      [
        { hoursBefore: 48, refundPercent: 50 },
        { hoursBefore: 48, refundPercent: 20 },
      ],
    ],
    ['cancellationPolicy', { hoursBefore: 1, refundPercent: 10 }],
  ])('answers 400 naming %s', async (path, policy) => {
    const res = await create({ cancellationPolicy: policy });
    expect(res.statusCode).toBe(400);
    expect(res.json().errorSources.map((e: { path: string }) => e.path)).toContain(path);
  });
});
