import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createTour } from '../helpers/booking-fixtures.js';
import { createUser, type TestUser } from '../helpers/factories.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t?.close());

const book = (user: TestUser, tour: string, guestCount: number) =>
  t.app.inject({ method: 'POST', url: '/api/v1/booking', headers: user.auth, payload: { tour, guestCount } });

describe('409 SOLD_OUT', () => {
  it("points to the departure's waitlist, which takes the traveller", async () => {
    const tour = await createTour(t.ctx, { maxGuest: 2 });
    expect((await book(await createUser(t.ctx), tour.id, 2)).statusCode).toBe(201);
    const late = await createUser(t.ctx);
    const res = await book(late, tour.id, 1);
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('SOLD_OUT');
    const path = `/api/v1/departures/${tour.departureId}/waitlist`;
    expect(res.json().message).toBe(
      `Not enough seats left on this departure. It has a waitlist: join it with POST ${path} to be offered ` +
        'seats when they come free',
    );
    const joined = await t.app.inject({
      method: 'POST',
      url: path,
      headers: late.auth,
      payload: { guestCount: 1 },
    });
    expect(joined.statusCode).toBe(201);
  });

  it('a party larger than the whole departure is told so, not sent to the waitlist', async () => {
    const tour = await createTour(t.ctx, { maxGuest: 2 });
    const res = await book(await createUser(t.ctx), tour.id, 3);
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('SOLD_OUT');
    expect(res.json().message).toBe(
      'Not enough seats left on this departure: it has 2 seats in all, fewer than 3 guests',
    );
  });
});
