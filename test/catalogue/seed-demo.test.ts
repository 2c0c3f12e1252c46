import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoCatalogue } from '../../src/db/seed-demo.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createDivision } from '../helpers/catalogue.js';

let t: TestApp;
const NOW = new Date('2026-11-26T08:00:00Z');

beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());

const get = async (url: string) => (await t.app.inject({ method: 'GET', url })).json();

describe('demo catalogue', () => {
  it('loads once, even when two start-ups race, and later runs change nothing', async () => {
    const results = await Promise.all([
      seedDemoCatalogue(t.ctx.db, t.ctx.storage, NOW),
      seedDemoCatalogue(t.ctx.db, t.ctx.storage, NOW),
    ]);
    expect(results.sort()).toEqual([0, 24]);
    expect(await seedDemoCatalogue(t.ctx.db, t.ctx.storage, NOW)).toBe(0);
    expect((await get('/api/v1/tour')).meta.total).toBe(24);
  });

  it("has Bangladesh's eight divisions with descriptions and pictures", async () => {
    const { data } = await get('/api/v1/division?limit=100&sort=name');
    expect(data.map((d: { name: string }) => d.name)).toEqual([
      'Barishal',
      'Chattogram',
      'Dhaka',
      'Khulna',
      'Mymensingh',
      'Rajshahi',
      'Rangpur',
      'Sylhet',
    ]);
    for (const d of data) {
      expect(d.description.length).toBeGreaterThan(20);
      expect(d.thumbnail).toMatch(/^http:\/\/api\.test\.local\/uploads\/images\/demo-.+\.png$/);
    }
  });

  it('has bookable tours with future dates, BDT prices, seats and a served image each', async () => {
    const { data, meta } = await get('/api/v1/tour?limit=100&sort=startDate');
    expect(meta.total).toBe(24);
    expect((await get('/api/v1/tour/tour-types')).data.meta.total).toBeGreaterThanOrEqual(5);
    for (const tour of data) {
      expect(Date.parse(tour.startDate)).toBeGreaterThan(NOW.getTime());
      expect(Date.parse(tour.endDate)).toBeGreaterThanOrEqual(Date.parse(tour.startDate));
      expect(tour.costFrom).toBeGreaterThan(500);
      expect(tour.availableSeats).toBe(tour.maxGuest);
      expect(tour.images).toHaveLength(1);
      expect(tour.tourPlan.length).toBeGreaterThan(0);
    }
    const image = await t.app.inject({ method: 'GET', url: new URL(data[0].images[0]).pathname });
    expect(image.statusCode).toBe(200);
    expect(image.headers['content-type']).toBe('image/png');
    expect(image.rawPayload.subarray(1, 4).toString()).toBe('PNG');
  });

  it('schedules three to five departures per tour over the coming months, some nearly full', async () => {
    const { data } = await get('/api/v1/tour?limit=100&fields=_id,departures');
    let nearlyFull = 0;
    for (const tour of data) {
      const departures = (await get(`/api/v1/tour/${tour._id}/departures?from=2026-01-01&limit=100`)).data;
      expect(departures.length).toBeGreaterThanOrEqual(3);
      expect(departures.length).toBeLessThanOrEqual(5);
      for (const d of departures) expect(Date.parse(d.startDate)).toBeGreaterThan(NOW.getTime());
      nearlyFull += departures.filter(
        (d: { availableSeats: number; capacity: number }) => d.availableSeats > 0 && d.availableSeats <= 2,
      ).length;
    }
    expect(nearlyFull).toBeGreaterThan(0);
  });

  it('makes search and filters meaningful', async () => {
    const sundarbans = await get('/api/v1/tour?searchTerm=sundarbans');
    expect(sundarbans.meta.total).toBeGreaterThanOrEqual(2);
    const { data: divisions } = await get('/api/v1/division?searchTerm=sylhet&fields=_id,name');
    const sylhet = await get(`/api/v1/tour?division=${divisions[0]._id}`);
    expect(sylhet.meta.total).toBe(3);
  });

  it('leaves a catalogue that already has data alone', async () => {
    const other = await buildTestApp();
    try {
      await createDivision(other.ctx, { name: 'Existing' });
      expect(await seedDemoCatalogue(other.ctx.db, other.ctx.storage, NOW)).toBe(0);
      expect((await other.app.inject({ method: 'GET', url: '/api/v1/division' })).json().meta.total).toBe(1);
    } finally {
      await other.close();
    }
  });
});
