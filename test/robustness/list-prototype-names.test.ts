import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTour } from '../helpers/catalogue.js';
import type { TestUser } from '../helpers/factories.js';
import { type PopulatedWorld, populateWorld } from '../helpers/populated-world.js';
import { PROTOTYPE_NAMES } from './request-arbitraries.js';

// Names every plain object inherits. A list's allowlists (sort fields, projected fields, filter keys) must
// not find them there: they are unknown names like any other, ignored, never a 500.
let t: TestApp;
let world: PopulatedWorld;

beforeAll(async () => {
  t = await buildTestApp();
  world = await populateWorld(t.app);
  // A second tour, and sign-ins for the security log, so every list has rows in a definite default order.
  await createTour(t.ctx, { division: world.division.id, tourType: world.tourType.id });
  for (const password of ['wrong-password-1', world.owner.password]) {
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: world.owner.email, password },
    });
  }
});
afterAll(() => t?.close());

const lists: [string, (w: PopulatedWorld) => TestUser][] = [
  ['/api/v1/tour', (w) => w.owner],
  ['/api/v1/tour/tour-types', (w) => w.owner],
  ['/api/v1/division', (w) => w.owner],
  ['/api/v1/user/all-users', (w) => w.admin],
  ['/api/v1/user/security-events', (w) => w.superAdmin],
  ['/api/v1/booking', (w) => w.admin],
  ['/api/v1/booking/my-bookings', (w) => w.owner],
];

/**
 * Each item's id and field names, whichever envelope the route uses (`data: [...]` or `data: { data: [...] }`);
 * values are left out, since some are minted per request (signed invoice links).
 */
function items(body: { data: unknown }): string[][] {
  const data = body.data as Record<string, unknown>[] | { data: Record<string, unknown>[] };
  return (Array.isArray(data) ? data : data.data).map((item) => [String(item._id), ...Object.keys(item)]);
}

describe.each(lists)('GET %s with prototype names in its parameters', (url, caller) => {
  const get = async (query: string) => {
    const res = await t.app.inject({ method: 'GET', url: `${url}?${query}`, headers: caller(world).auth });
    expect(res.statusCode, `${url}?${query}: ${res.body.slice(0, 300)}`).toBe(200);
    return items(res.json());
  };

  it('ignores them in sort, alone or beside a real field', async () => {
    const baseline = await get('');
    expect(baseline.length).toBeGreaterThan(0);
    for (const name of PROTOTYPE_NAMES) {
      const q = encodeURIComponent(name);
      for (const sort of [q, `-${q}`, `%2B${q}`, `${q},-createdAt`, `-createdAt,${q}`]) {
        expect(await get(`sort=${sort}`), `sort=${sort}`).toEqual(baseline);
      }
    }
  });

  it('projects nothing more for them in fields than for the id alone', async () => {
    const idOnly = await get('fields=_id');
    for (const name of PROTOTYPE_NAMES) {
      const q = encodeURIComponent(name);
      for (const fields of [q, `${q},_id`, `_id,${q},${q}`]) {
        expect(await get(`fields=${fields}`), `fields=${fields}`).toEqual(idOnly);
      }
    }
  });

  it('ignores them as filter keys and their bracketed forms', async () => {
    const baseline = await get('');
    for (const name of PROTOTYPE_NAMES) {
      const q = encodeURIComponent(name);
      for (const query of [`${q}=1`, `${q}=`, `${q}[x]=1`, `${q}=${q}&${q}=2`, `searchTerm=&${q}=x`]) {
        expect(await get(query), query).toEqual(baseline);
      }
    }
  });
});
