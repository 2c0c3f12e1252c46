import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../src/context.js';
import { expireStaleHolds } from '../../src/modules/bookings/hold-sweeper.js';
import { closeUnpaidPayments } from '../../src/modules/payments/booking-payments.js';
import { createTour } from './booking-fixtures.js';
import { createUser, type TestUser } from './factories.js';
import { bookThroughApi, payOnLocalGateway } from './populated-world.js';
import { jobWorker } from './refund-worker.js';

const HOUR_MS = 60 * 60 * 1000;

/**
 * A day of business through the HTTP API, for checking the statistics summaries: bookings paid, left pending,
 * cancelled before and after payment (refunded in full, in part, or not yet), holds that run out, and users blocked and deleted by an admin. Returns the admin.
 */
export async function runStatsScenario(app: FastifyInstance): Promise<TestUser> {
  const ctx: AppContext = app.ctx;
  const admin = await createUser(ctx, { role: 'ADMIN' });
  const [ann, bob, cat] = [await createUser(ctx), await createUser(ctx), await createUser(ctx)];
  const seaside = await createTour(ctx, { costFrom: 1000, maxGuest: 40 });
  const hills = await createTour(ctx, { costFrom: 2500, maxGuest: 20 });
  const runJobs = jobWorker(app);

  const paid = async (user: TestUser, tourId: string, guests: number) => {
    const b = await bookThroughApi(app, user, tourId, guests);
    if ((await payOnLocalGateway(app, b.paymentUrl)) !== 302) throw new Error('payment not accepted');
    return b.bookingId;
  };
  const cancel = async (bookingId: string, by: TestUser, body?: object) => {
    const res = await app.inject({
      method: 'POST',
      url: `/api/v1/booking/${bookingId}/cancel`,
      headers: by.auth,
      ...(body ? { payload: body } : {}),
    });
    if (res.statusCode !== 200) throw new Error(`cancel failed: ${res.statusCode} ${res.body}`);
  };
  const updateUser = async (user: TestUser, payload: object) => {
    const res = await app.inject({
      method: 'PATCH',
      url: `/api/v1/user/${user.id}`,
      headers: admin.auth,
      payload,
    });
    if (res.statusCode !== 201) throw new Error(`user update failed: ${res.statusCode} ${res.body}`);
  };

  await paid(ann, seaside.id, 2);
  await paid(ann, hills.id, 1);
  await paid(bob, hills.id, 3);
  await paid(cat, seaside.id, 4);
  await bookThroughApi(app, bob, seaside.id, 1); // left PENDING
  await cancel((await bookThroughApi(app, cat, hills.id, 2)).bookingId, cat); // before payment
  await cancel(await paid(ann, seaside.id, 1), ann); // refunded in full
  await cancel(await paid(bob, seaside.id, 2), admin, { refundAmount: 300, reason: 'Goodwill' }); // in part
  await runJobs(ctx.clock.now());
  await cancel(await paid(cat, hills.id, 1), admin, { refundAmount: 100, reason: 'Late goodwill' }); // not yet

  // Holds that run out: the sweeper releases them.
  await bookThroughApi(app, ann, hills.id, 2);
  await bookThroughApi(app, cat, seaside.id, 3);
  await expireStaleHolds(ctx.db, { closeUnpaid: closeUnpaidPayments }, new Date(Date.now() + 2 * HOUR_MS));
  await runJobs(new Date(Date.now() + 3 * HOUR_MS));

  await updateUser(bob, { isActive: 'BLOCKED' });
  await updateUser(cat, { role: 'GUIDE' });
  await updateUser(await createUser(ctx), { isDeleted: true });
  return admin;
}

const STATS = ['user', 'tour', 'booking', 'payment'] as const;

/** The four statistics responses as an admin reads them. */
export async function readAllStats(app: FastifyInstance, admin: TestUser) {
  const all: Record<string, unknown> = {};
  for (const name of STATS) {
    const res = await app.inject({ method: 'GET', url: `/api/v1/stats/${name}`, headers: admin.auth });
    if (res.statusCode !== 200) throw new Error(`stats/${name}: ${res.statusCode} ${res.body}`);
    all[name] = res.json().data;
  }
  return all;
}

type Rows = { rows: Record<string, unknown>[] };
export const rowsOf = async (ctx: AppContext, query: ReturnType<typeof sql>) =>
  ((await ctx.db.execute(query)) as unknown as Rows).rows;

/** Figures computed from scratch from the base tables, the way the statistics described them before summaries. */
export async function figuresFromScratch(ctx: AppContext) {
  const [row] = await rowsOf(
    ctx,
    sql`select
      (select json_object_agg(status, n) from (select status, count(*) as n from bookings group by status) s) as by_status,
      (select count(distinct user_id) from bookings) as booking_users,
      (select count(*) from bookings b join payments p on p.booking_id = b.id
        where b.status = 'CANCEL' and p.status in ('PAID', 'REFUNDED')) as cancelled_after_payment,
      (select coalesce(sum(amount_minor - refunded_minor), 0) from payments where status = 'PAID') as revenue_minor,
      (select count(*) from refunds where status = 'REFUNDED') as refunds_done,
      (select json_agg(tour_id order by n desc, tour_id) from (select tour_id, count(*) as n from bookings
        where status in ('PENDING', 'COMPLETE') group by tour_id) t) as tours_ranked,
      (select count(*) from users where not is_deleted and is_active = 'BLOCKED') as blocked`,
  );
  return row!;
}
