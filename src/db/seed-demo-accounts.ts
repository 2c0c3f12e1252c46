import { randomBytes } from 'node:crypto';
import { inArray } from 'drizzle-orm';
import { CONFIRMED } from '../modules/bookings/state.js';
import { addToTourRating, insertReview } from '../modules/reviews/repo.js';
import type { Database, Executor } from './client.js';
import {
  bookings,
  DEFAULT_CANCELLATION_POLICY,
  payments,
  type Role,
  userAuths,
  users,
} from './schema/index.js';

/**
 * The demo accounts that come with the demo catalogue: a guide, and travellers who took the past trips and
 * reviewed them, so a fresh start shows ratings. They sign in with the development demo password; without one
 * (production) they have no password and cannot sign in.
 */

export const DEMO_GUIDE_EMAIL = 'guide@demo.local';
export const DEMO_TRAVELLER_EMAIL = 'traveller@demo.local';

const ACCOUNTS: { key: string; name: string; email: string; role: Role; address: string }[] = [
  {
    key: 'guide',
    name: 'Rafiq Hasan',
    email: DEMO_GUIDE_EMAIL,
    role: 'GUIDE',
    address: 'Sreemangal, Moulvibazar',
  },
  {
    key: 'nusrat',
    name: 'Nusrat Jahan',
    email: DEMO_TRAVELLER_EMAIL,
    role: 'USER',
    address: 'Dhanmondi, Dhaka',
  },
  {
    key: 'tanvir',
    name: 'Tanvir Ahmed',
    email: 'tanvir@demo.local',
    role: 'USER',
    address: 'Agrabad, Chattogram',
  },
  {
    key: 'farhana',
    name: 'Farhana Rahman',
    email: 'farhana@demo.local',
    role: 'USER',
    address: 'Sonadanga, Khulna',
  },
];

/** Who went on which past trip, with how many guests, and the review they wrote a few days after it. */
const PAST_BOOKINGS: { trip: string; traveller: string; guests: number; rating: number; comment: string }[] =
  [
    {
      trip: 'Sajek Valley Cloud Trek',
      traveller: 'nusrat',
      guests: 2,
      rating: 5,
      comment: 'Woke up above the clouds at Konglak. The guide knew every village on the way.',
    },
    {
      trip: 'Sajek Valley Cloud Trek',
      traveller: 'tanvir',
      guests: 1,
      rating: 4,
      comment:
        'Beautiful trek; the jeep ride from Khagrachhari is long, bring something for motion sickness.',
    },
    {
      trip: 'Sajek Valley Cloud Trek',
      traveller: 'farhana',
      guests: 2,
      rating: 5,
      comment: 'Best sunrise of my life, and the bamboo chicken dinner was worth the trip on its own.',
    },
    {
      trip: 'Lalbagh Fort and Armenian Church Walk',
      traveller: 'nusrat',
      guests: 1,
      rating: 4,
      comment: 'Lots of history in one afternoon. Wear comfortable shoes.',
    },
    {
      trip: 'Lalbagh Fort and Armenian Church Walk',
      traveller: 'farhana',
      guests: 3,
      rating: 3,
      comment: 'Interesting, but the traffic in Old Dhaka ate an hour of the walk.',
    },
    {
      trip: 'Sundarbans Winter Boat Safari',
      traveller: 'tanvir',
      guests: 2,
      rating: 5,
      comment: 'We saw spotted deer, a crocodile and pugmarks at Kotka. The boat crew cooked wonderful fish.',
    },
    {
      trip: 'Sundarbans Winter Boat Safari',
      traveller: 'nusrat',
      guests: 2,
      rating: 4,
      comment: 'Three calm days in the mangroves. Cabins are small but clean.',
    },
  ];

export interface PastTrip {
  id: string;
  /** The trip's one departure, which has ended. */
  departureId: string;
  title: string;
  costFromMinor: number | null;
  currency: string;
  startDate: Date;
  endDate: Date;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** The seats the demo travellers took on a past trip (its departure counts them as sold). */
export const pastTripSeats = (title: string): number =>
  PAST_BOOKINGS.filter((b) => b.trip === title).reduce((n, b) => n + b.guests, 0);

/**
 * Inserts the demo accounts, their paid bookings of the past trips (their seats already counted on each trip's departure)
 * and their reviews (the tours' ratings kept by the reviews module's own update), in the caller's transaction.
 */
export async function seedDemoAccounts(
  tx: Executor,
  pastTrips: PastTrip[],
  passwordHash: string | null,
): Promise<void> {
  await tx
    .insert(users)
    .values(
      ACCOUNTS.map((a) => ({
        name: a.name,
        email: a.email,
        passwordHash,
        role: a.role,
        phone: '+8801712345678',
        address: a.address,
        isVerified: true,
      })),
    )
    .onConflictDoNothing();
  const rows = await tx
    .select({ id: users.id, email: users.email })
    .from(users)
    .where(
      inArray(
        users.email,
        ACCOUNTS.map((a) => a.email),
      ),
    );
  const userId = new Map(rows.map((r) => [ACCOUNTS.find((a) => a.email === r.email)!.key, r.id]));
  if (passwordHash) {
    await tx
      .insert(userAuths)
      .values(rows.map((r) => ({ userId: r.id, provider: 'credentials', providerId: r.email })))
      .onConflictDoNothing();
  }

  const tripByTitle = new Map(pastTrips.map((trip) => [trip.title, trip]));
  for (const [i, b] of PAST_BOOKINGS.entries()) {
    const trip = tripByTitle.get(b.trip);
    const travellerId = userId.get(b.traveller);
    if (!trip || !travellerId) continue;
    const bookedAt = new Date(trip.startDate.getTime() - (10 + i) * DAY_MS);
    const unitPriceMinor = trip.costFromMinor ?? 0;
    const bookingId = await insertPaidDemoBooking(tx, {
      userId: travellerId,
      tourId: trip.id,
      departureId: trip.departureId,
      guests: b.guests,
      unitPriceMinor,
      currency: trip.currency,
      bookedAt,
    });
    const reviewedAt = new Date(trip.endDate.getTime() + (1 + (i % 3)) * DAY_MS);
    const review = await insertReview(tx, {
      tourId: trip.id,
      bookingId,
      userId: travellerId,
      rating: b.rating,
      comment: b.comment,
      createdAt: reviewedAt,
      updatedAt: reviewedAt,
    });
    await addToTourRating(tx, trip.id, { sum: review.rating, count: 1 });
  }
}

/** A demo booking paid on the local gateway five minutes after `bookedAt`, as a finished checkout leaves it. */
export async function insertPaidDemoBooking(
  tx: Executor,
  b: {
    userId: string;
    tourId: string;
    departureId: string;
    guests: number;
    unitPriceMinor: number;
    currency: string;
    bookedAt: Date;
  },
): Promise<string> {
  const amountMinor = b.unitPriceMinor * b.guests;
  const [booking] = await tx
    .insert(bookings)
    .values({
      userId: b.userId,
      tourId: b.tourId,
      departureId: b.departureId,
      status: CONFIRMED,
      guestCount: b.guests,
      unitPriceMinor: b.unitPriceMinor,
      amountMinor,
      currency: b.currency,
      holdExpiresAt: new Date(b.bookedAt.getTime() + 30 * 60 * 1000),
      cancellationPolicy: DEFAULT_CANCELLATION_POLICY,
      createdAt: b.bookedAt,
      updatedAt: b.bookedAt,
    })
    .returning({ id: bookings.id });
  const paidAt = new Date(b.bookedAt.getTime() + 5 * 60 * 1000);
  await tx.insert(payments).values({
    bookingId: booking!.id,
    transactionId: `tran_${randomBytes(16).toString('hex')}`,
    status: 'PAID',
    amountMinor,
    currency: b.currency,
    gateway: 'local',
    paidAt,
    createdAt: b.bookedAt,
    updatedAt: paidAt,
  });
  return booking!.id;
}

/** The demo accounts a person can be told about at start-up (the guide and the traveller), if present. */
export async function demoAccountsPresent(db: Database): Promise<string[]> {
  const emails = [DEMO_GUIDE_EMAIL, DEMO_TRAVELLER_EMAIL];
  const rows = await db.select({ email: users.email }).from(users).where(inArray(users.email, emails));
  return emails.filter((email) => rows.some((r) => r.email === email));
}
