import { inArray } from 'drizzle-orm';
import type { AppContext } from '../../src/context.js';
import {
  type BookingStatus,
  bookings,
  departures,
  divisions,
  type IsActive,
  type PaymentStatus,
  payments,
  type Role,
  tours,
  tourTypes,
  users,
} from '../../src/db/schema/index.js';
import { newId } from '../../src/lib/ids.js';
import { createUser, type TestUser } from '../helpers/factories.js';

/**
 * A small dataset whose every statistic is worked out by hand (see the expectations in the tests).
 * Everything is placed relative to NOW, the test clock.
 */
export const NOW = new Date('2026-03-15T12:00:00.000Z');
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
export const ago = (ms: number) => new Date(NOW.getTime() - ms);
export const later = (ms: number) => new Date(NOW.getTime() + ms);

export interface Callers {
  superAdmin: TestUser;
  admin: TestUser;
  user: TestUser;
  guide: TestUser;
}

/** One signed-in user per role, all created 100 days before NOW. */
export async function createCallers(ctx: AppContext): Promise<Callers> {
  const callers = {
    superAdmin: await createUser(ctx, { role: 'SUPER_ADMIN' }),
    admin: await createUser(ctx, { role: 'ADMIN' }),
    user: await createUser(ctx, { role: 'USER' }),
    guide: await createUser(ctx, { role: 'GUIDE' }),
  };
  await ctx.db
    .update(users)
    .set({ createdAt: ago(100 * DAY) })
    .where(
      inArray(
        users.id,
        Object.values(callers).map((c) => c.id),
      ),
    );
  return callers;
}

async function insertUser(
  ctx: AppContext,
  name: string,
  role: Role,
  isActive: IsActive,
  createdAt: Date,
  isDeleted = false,
) {
  const [row] = await ctx.db
    .insert(users)
    .values({ name, email: `${name}@stats.test`, role, isActive, isDeleted, isVerified: true, createdAt })
    .returning({ id: users.id });
  return row!.id;
}

export interface KnownDataset {
  tours: { coxBeach: string; sylhetHike: string; oldDhakaWalk: string; sajek: string };
}

/** The users, catalogue, bookings and payments the statistics tests reason about. */
export async function insertKnownDataset(ctx: AppContext, callers: Callers): Promise<KnownDataset> {
  // Users besides the four callers: 9 live users in all, one deleted.
  const u1 = await insertUser(ctx, 'u1', 'USER', 'ACTIVE', ago(2 * DAY));
  const u2 = await insertUser(ctx, 'u2', 'USER', 'INACTIVE', ago(10 * DAY));
  const u3 = await insertUser(ctx, 'u3', 'USER', 'BLOCKED', ago(40 * DAY));
  const u4 = await insertUser(ctx, 'u4', 'USER', 'ACTIVE', ago(1 * DAY), true);
  await insertUser(ctx, 'u5', 'GUIDE', 'ACTIVE', ago(7 * DAY - 60 * MINUTE));
  await insertUser(ctx, 'u6', 'USER', 'ACTIVE', ago(7 * DAY + MINUTE));

  const [dhaka, sylhet] = await ctx.db
    .insert(divisions)
    .values([
      { name: 'Dhaka', slug: 'dhaka' },
      { name: 'Sylhet', slug: 'sylhet' },
      { name: 'Khulna', slug: 'khulna' },
    ])
    .returning({ id: divisions.id });
  const [beach, hiking] = await ctx.db
    .insert(tourTypes)
    .values([{ name: 'Beach' }, { name: 'Hiking' }, { name: 'Cultural' }])
    .returning({ id: tourTypes.id });

  const tour = (
    title: string,
    divisionId: string,
    tourTypeId: string,
    costFromMinor: number | null,
    maxGuest: number | null,
    startDate: Date,
    seatsBooked: number,
  ) => ({
    id: newId(),
    title,
    slug: title.toLowerCase().replace(/\s+/g, '-'),
    divisionId,
    tourTypeId,
    costFromMinor,
    maxGuest,
    departure: { id: newId(), startDate, seatsBooked },
  });
  const coxBeach = tour('Cox Beach', dhaka!.id, beach!.id, 150_050, 10, later(10 * DAY), 5);
  const sylhetHike = tour('Sylhet Hike', sylhet!.id, hiking!.id, 200_000, 20, later(5 * DAY), 4);
  const oldDhakaWalk = tour('Old Dhaka Walk', dhaka!.id, hiking!.id, null, null, ago(20 * DAY), 0);
  const sajek = tour('Sajek', dhaka!.id, beach!.id, 99_999, null, later(30 * DAY), 0);
  const allTours = [coxBeach, sylhetHike, oldDhakaWalk, sajek];
  await ctx.db.insert(tours).values(allTours.map(({ departure: _d, ...row }) => row));
  await ctx.db.insert(departures).values(
    allTours.map((t) => ({
      id: t.departure.id,
      tourId: t.id,
      startDate: t.departure.startDate,
      endDate: t.departure.startDate,
      capacity: t.maxGuest,
      seatsBooked: t.departure.seatsBooked,
    })),
  );

  interface Row {
    tour: { id: string; costFromMinor: number | null; departure: { id: string } };
    userId: string;
    status: BookingStatus;
    guests: number;
    createdAt: Date;
    payment: PaymentStatus;
    paidAt?: Date;
    gatewayStatus?: string;
  }
  const rows: Row[] = [
    // B1..B9
    {
      tour: coxBeach,
      userId: u1,
      status: 'COMPLETE',
      guests: 2,
      createdAt: ago(DAY),
      payment: 'PAID',
      paidAt: ago(DAY - 10 * MINUTE),
      gatewayStatus: 'VALID',
    },
    {
      tour: coxBeach,
      userId: u2,
      status: 'COMPLETE',
      guests: 3,
      createdAt: ago(3 * DAY),
      payment: 'PAID',
      paidAt: ago(3 * DAY),
      gatewayStatus: 'VALIDATED',
    },
    // Inside the rolling 30 days, one second before the first day of the 30-day series.
    {
      tour: coxBeach,
      userId: u1,
      status: 'CANCEL',
      guests: 1,
      createdAt: new Date('2026-02-13T23:59:59.000Z'),
      payment: 'CANCELLED',
    },
    {
      tour: coxBeach,
      userId: u4,
      status: 'FAILED',
      guests: 4,
      createdAt: ago(40 * DAY),
      payment: 'FAILED',
      gatewayStatus: 'FAILED',
    },
    {
      tour: sylhetHike,
      userId: callers.user.id,
      status: 'PENDING',
      guests: 2,
      createdAt: ago(10 * MINUTE),
      payment: 'UNPAID',
    },
    // The first instant of the 30-day series.
    {
      tour: sylhetHike,
      userId: u1,
      status: 'COMPLETE',
      guests: 1,
      createdAt: new Date('2026-02-14T00:00:00.000Z'),
      payment: 'PAID',
      paidAt: new Date('2026-02-14T00:05:00.000Z'),
      gatewayStatus: 'VALID',
    },
    {
      tour: sajek,
      userId: u2,
      status: 'CANCEL',
      guests: 2,
      createdAt: ago(35 * DAY),
      payment: 'REFUNDED',
      paidAt: ago(35 * DAY),
      gatewayStatus: 'VALID',
    },
    { tour: sajek, userId: u4, status: 'FAILED', guests: 1, createdAt: ago(2 * DAY), payment: 'FAILED' },
    {
      tour: sylhetHike,
      userId: u3,
      status: 'COMPLETE',
      guests: 1,
      createdAt: ago(45 * DAY),
      payment: 'PAID',
      paidAt: ago(45 * DAY),
      gatewayStatus: 'VALID',
    },
  ];
  for (const [k, r] of rows.entries()) {
    const unit = r.tour.costFromMinor ?? 0;
    const [booking] = await ctx.db
      .insert(bookings)
      .values({
        tourId: r.tour.id,
        departureId: r.tour.departure.id,
        userId: r.userId,
        status: r.status,
        guestCount: r.guests,
        unitPriceMinor: unit,
        amountMinor: unit * r.guests,
        holdExpiresAt: new Date(r.createdAt.getTime() + 30 * MINUTE),
        seatsHeld: r.status === 'PENDING' || r.status === 'COMPLETE',
        createdAt: r.createdAt,
      })
      .returning({ id: bookings.id });
    await ctx.db.insert(payments).values({
      bookingId: booking!.id,
      transactionId: `tran_stats_${k + 1}`,
      status: r.payment,
      amountMinor: unit * r.guests,
      gateway: 'local',
      gatewayStatus: r.gatewayStatus ?? null,
      gatewayData: r.gatewayStatus ? { status: r.gatewayStatus } : null,
      paidAt: r.paidAt ?? null,
      createdAt: r.createdAt,
    });
  }
  return {
    tours: {
      coxBeach: coxBeach.id,
      sylhetHike: sylhetHike.id,
      oldDhakaWalk: oldDhakaWalk.id,
      sajek: sajek.id,
    },
  };
}
