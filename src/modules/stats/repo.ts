import { type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';

/*
 * Every figure is an aggregate computed by PostgreSQL; at most a few dozen group rows come back. Figures that
 * grow with bookings, payments and users are read from the stats_* summaries (src/db/schema/stats.ts), which
 * triggers keep exact in the transactions that write those rows: each key may have several rows (the changes
 * since the last fold), so every read sums by key. Each query is written so that figures a reader compares
 * (a total and its breakdown) come from one statement, hence one snapshot. Check a change with EXPLAIN ANALYZE
 * on the benchmark dataset (bench/dataset.ts). Each query is built by its exported `...Query` function, whose
 * SQL test/sql keeps, so a change to it shows in review.
 */

/** Counts and sums come back as number, bigint or numeric text depending on the driver. */
const num = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value));

type Row = Record<string, unknown>;

/** Both drivers (node-postgres and PGlite) answer `execute` with `{ rows }`. */
async function selectRows(db: Executor, query: SQL): Promise<Row[]> {
  const result = (await db.execute(query)) as unknown as { rows: Row[] };
  return result.rows;
}

const at = (instant: Date) => sql`${instant.toISOString()}::timestamptz`;
const DAY_MS = 24 * 60 * 60 * 1000;
/** The UTC day of a UTC midnight, as a date literal. */
const day = (midnight: Date) => sql`${midnight.toISOString().slice(0, 10)}::date`;
/** The first UTC midnight at or after `instant`: a rolling window's whole days start there. */
const nextMidnight = (instant: Date) => new Date(Math.ceil(instant.getTime() / DAY_MS) * DAY_MS);

export interface UserGroup {
  isDeleted: boolean;
  isActive: string;
  role: string;
  count: number;
}

/**
 * Users grouped by deletion, state and role (stats_user_groups). The users who signed up in the windows are
 * not deleted ones, counted by an index-only range scan of users_live_created_idx; they come back on each
 * group row.
 */
export function userGroupsQuery(since7Days: Date, since30Days: Date) {
  return sql`
    select g.is_deleted, g.is_active, g.role, g.n, w.n7, w.n30
    from (
      select is_deleted, is_active, role, sum(users) as n from stats_user_groups
      group by is_deleted, is_active, role having sum(users) > 0
    ) g
    cross join (
      select count(*) filter (where created_at >= ${at(since7Days)}) as n7, count(*) as n30
      from users where not is_deleted and created_at >= ${at(since30Days)}
    ) w`;
}

export interface UserFigures {
  groups: UserGroup[];
  /** Users not deleted who signed up in the last 7 and 30 days. */
  createdSince7Days: number;
  createdSince30Days: number;
}

export async function userGroups(db: Executor, since7Days: Date, since30Days: Date): Promise<UserFigures> {
  const rows = await selectRows(db, userGroupsQuery(since7Days, since30Days));
  return {
    groups: rows.map((r) => ({
      isDeleted: r.is_deleted === true,
      isActive: String(r.is_active),
      role: String(r.role),
      count: num(r.n),
    })),
    createdSince7Days: num(rows[0]?.n7),
    createdSince30Days: num(rows[0]?.n30),
  };
}

export interface TourTotals {
  total: number;
  /** Average price per guest over tours that have a price, in minor units (unrounded). */
  avgCostFromMinor: number;
}

/** Tours, and the average price of those that have one (stats_tour_groups). */
export function tourTotalsQuery() {
  return sql`
    select sum(tours) as total, sum(cost_from_minor) / nullif(sum(priced), 0) as avg_cost
    from stats_tour_groups`;
}

export async function tourTotals(db: Executor): Promise<TourTotals> {
  const rows = await selectRows(db, tourTotalsQuery());
  const row = rows[0] ?? {};
  return { total: num(row.total), avgCostFromMinor: num(row.avg_cost) };
}

export interface NamedCount {
  name: string;
  count: number;
}

/** Every tour type with its number of tours (zero included), most tours first (stats_tour_groups). */
export function toursPerTourTypeQuery() {
  return sql`
    select tt.name, coalesce(c.n, 0) as n
    from tour_types tt
    left join (select tour_type_id, sum(tours) as n from stats_tour_groups group by tour_type_id) c
      on c.tour_type_id = tt.id
    order by n desc, lower(tt.name), tt.id`;
}

export async function toursPerTourType(db: Executor): Promise<NamedCount[]> {
  const rows = await selectRows(db, toursPerTourTypeQuery());
  return rows.map((r) => ({ name: String(r.name), count: num(r.n) }));
}

/** Every division with its number of tours (zero included), most tours first (stats_tour_groups). */
export function toursPerDivisionQuery() {
  return sql`
    select d.name, coalesce(c.n, 0) as n
    from divisions d
    left join (select division_id, sum(tours) as n from stats_tour_groups group by division_id) c
      on c.division_id = d.id
    order by n desc, lower(d.name), d.id`;
}

export async function toursPerDivision(db: Executor): Promise<NamedCount[]> {
  const rows = await selectRows(db, toursPerDivisionQuery());
  return rows.map((r) => ({ name: String(r.name), count: num(r.n) }));
}

export interface BookedTour {
  tourId: string;
  bookingCount: number;
  title: string;
  slug: string;
}

/**
 * The tours with the most bookings that count (PENDING or COMPLETE; cancelled and failed ones do not),
 * ties broken by tour id, from stats_tour_bookings. A tour's figure is its folded row plus its changes since
 * the last fold. The top `limit` are among the changed tours and the first `limit` unchanged ones by folded
 * figure (stats_tour_bookings_rank_idx): a constant limit keeps the plan to a few index probes.
 */
export function mostBookedToursQuery(limit: number) {
  return sql`
    with changed as (
      select tour_id, sum(bookings) as n from stats_tour_bookings where not folded group by tour_id
    ), candidates as (
      select tour_id, bookings as n from (
        select f.tour_id, f.bookings from stats_tour_bookings f
        where f.folded and not exists (select 1 from changed ch where ch.tour_id = f.tour_id)
        order by f.bookings desc, f.tour_id
        limit ${limit}
      ) unchanged
      union all
      select ch.tour_id,
             ch.n + coalesce((select f.bookings from stats_tour_bookings f where f.tour_id = ch.tour_id and f.folded), 0)
      from changed ch
    ), top as (
      select tour_id, n from candidates where n > 0 order by n desc, tour_id limit ${limit}
    )
    select top.tour_id, top.n, t.title, t.slug
    from top join tours t on t.id = top.tour_id
    order by top.n desc, top.tour_id`;
}

export async function mostBookedTours(db: Executor, limit: number): Promise<BookedTour[]> {
  const rows = await selectRows(db, mostBookedToursQuery(limit));
  return rows.map((r) => ({
    tourId: String(r.tour_id),
    bookingCount: num(r.n),
    title: String(r.title),
    slug: String(r.slug),
  }));
}

export interface TourOccupancy {
  tourId: string;
  title: string;
  slug: string;
  startDate: Date;
  capacity: number | null;
  seatsSold: number;
  seatsHeld: number;
}

/**
 * The next `limit` SCHEDULED departures to start after `now`, with their tour and seats sold (COMPLETE) and
 * held (PENDING).
 */
export function upcomingTourOccupancyQuery(now: Date, limit: number) {
  return sql`
    select t.id, t.title, t.slug, d.start_date, d.capacity, s.sold, s.held
    from (
      select id, tour_id, start_date, capacity from departures
      where start_date > ${at(now)} and status = 'SCHEDULED'
      order by start_date, id
      limit ${limit}
    ) d
    join tours t on t.id = d.tour_id
    cross join lateral (
      select coalesce(sum(guest_count) filter (where status = 'COMPLETE'), 0) as sold,
             coalesce(sum(guest_count) filter (where status = 'PENDING' and seats_held), 0) as held
      from bookings b where b.departure_id = d.id
    ) s
    order by d.start_date, d.id`;
}

export async function upcomingTourOccupancy(
  db: Executor,
  now: Date,
  limit: number,
): Promise<TourOccupancy[]> {
  const rows = await selectRows(db, upcomingTourOccupancyQuery(now, limit));
  return rows.map((r) => ({
    tourId: String(r.id),
    title: String(r.title),
    slug: String(r.slug),
    startDate: new Date(r.start_date as string | Date),
    capacity: r.capacity === null ? null : num(r.capacity),
    seatsSold: num(r.sold),
    seatsHeld: num(r.held),
  }));
}

export interface StatusGroup {
  status: string;
  count: number;
  guests: number;
}

/** Bookings per status with their guests (stats_booking_days: a few rows per day). */
export function bookingStatusGroupsQuery() {
  return sql`
    select status, sum(bookings) as n, sum(guests) as guests from stats_booking_days
    group by status having sum(bookings) > 0`;
}

export async function bookingStatusGroups(db: Executor): Promise<StatusGroup[]> {
  const rows = await selectRows(db, bookingStatusGroupsQuery());
  return rows.map((r) => ({ status: String(r.status), count: num(r.n), guests: num(r.guests) }));
}

export interface RecentBookings {
  since7Days: number;
  since30Days: number;
  completeSince30Days: number;
}

/**
 * Bookings created in the rolling windows: the whole UTC days from stats_booking_days, and the part of the
 * window's first day before midnight by an index-only range scan of bookings_created_status_idx.
 */
export function recentBookingsQuery(since7Days: Date, since30Days: Date) {
  const whole7 = nextMidnight(since7Days);
  const whole30 = nextMidnight(since30Days);
  return sql`
    select e7.n + d.n7 as n7, e30.n + d.n30 as n30, e30.complete + d.complete30 as complete30
    from (
      select count(*) as n from bookings
      where created_at >= ${at(since7Days)} and created_at < ${at(whole7)}
    ) e7
    cross join (
      select count(*) as n, count(*) filter (where status = 'COMPLETE') as complete from bookings
      where created_at >= ${at(since30Days)} and created_at < ${at(whole30)}
    ) e30
    cross join (
      select coalesce(sum(bookings) filter (where day >= ${day(whole7)}), 0) as n7,
             coalesce(sum(bookings), 0) as n30,
             coalesce(sum(bookings) filter (where status = 'COMPLETE'), 0) as complete30
      from stats_booking_days where day >= ${day(whole30)}
    ) d`;
}

export async function recentBookings(
  db: Executor,
  since7Days: Date,
  since30Days: Date,
): Promise<RecentBookings> {
  const rows = await selectRows(db, recentBookingsQuery(since7Days, since30Days));
  const row = rows[0] ?? {};
  return { since7Days: num(row.n7), since30Days: num(row.n30), completeSince30Days: num(row.complete30) };
}

/** Distinct users who ever booked (a user's first booking counts in stats_counters). */
export function distinctBookingUsersQuery() {
  return sql`
    select sum(n) as n from stats_counters where name = 'booking_users'`;
}

export async function distinctBookingUsers(db: Executor): Promise<number> {
  const rows = await selectRows(db, distinctBookingUsersQuery());
  return num(rows[0]?.n);
}

export interface DayCount {
  date: string;
  count: number;
}

/**
 * Bookings created on each UTC day from `firstDay` (a UTC midnight) for `days` days, every day present
 * (stats_booking_days).
 */
export function bookingsPerDayQuery(firstDay: Date, days: number) {
  return sql`
    select to_char(${day(firstDay)} + d.i, 'YYYY-MM-DD') as day, coalesce(sum(s.bookings), 0) as n
    from generate_series(0, ${days - 1}) as d(i)
    left join stats_booking_days s on s.day = ${day(firstDay)} + d.i
    group by d.i
    order by d.i`;
}

export async function bookingsPerDay(db: Executor, firstDay: Date, days: number): Promise<DayCount[]> {
  const rows = await selectRows(db, bookingsPerDayQuery(firstDay, days));
  return rows.map((r) => ({ date: String(r.day), count: num(r.n) }));
}

export interface PaymentGroup {
  status: string;
  gatewayStatus: string | null;
  count: number;
  amountMinor: number;
  /** Given back by completed refunds. */
  refundedMinor: number;
}

/**
 * Payments per status and gateway status with their amounts and what refunds gave back of them
 * (stats_payment_groups).
 */
export function paymentGroupsQuery() {
  return sql`
    select status, gateway_status, sum(payments) as n, sum(amount_minor) as amount,
           sum(refunded_minor) as refunded
    from stats_payment_groups group by status, gateway_status having sum(payments) > 0`;
}

export async function paymentGroups(db: Executor): Promise<PaymentGroup[]> {
  const rows = await selectRows(db, paymentGroupsQuery());
  return rows.map((r) => ({
    status: String(r.status),
    gatewayStatus: r.gateway_status === null ? null : String(r.gateway_status),
    count: num(r.n),
    amountMinor: num(r.amount),
    refundedMinor: num(r.refunded),
  }));
}

export interface RefundGroup {
  status: string;
  count: number;
  amountMinor: number;
}

/** Refunds per status with their amounts (stats_refund_groups). */
export function refundGroupsQuery() {
  return sql`
    select status, sum(refunds) as n, sum(amount_minor) as amount from stats_refund_groups
    group by status having sum(refunds) > 0`;
}

export async function refundGroups(db: Executor): Promise<RefundGroup[]> {
  const rows = await selectRows(db, refundGroupsQuery());
  return rows.map((r) => ({ status: String(r.status), count: num(r.n), amountMinor: num(r.amount) }));
}

export interface Cancellations {
  total: number;
  /** Cancelled bookings whose payment had been received. */
  afterPayment: number;
}

/**
 * Cancelled bookings (stats_booking_days), and how many of them had been paid (a count in stats_counters that
 * the triggers on bookings and payments keep).
 */
export function cancellationsQuery() {
  return sql`
    select (select sum(bookings) from stats_booking_days where status = 'CANCEL') as n,
           (select sum(n) from stats_counters where name = 'cancelled_after_payment') as paid`;
}

export async function cancellations(db: Executor): Promise<Cancellations> {
  const rows = await selectRows(db, cancellationsQuery());
  return { total: num(rows[0]?.n), afterPayment: num(rows[0]?.paid) };
}

export interface DayRevenue {
  date: string;
  payments: number;
  revenueMinor: number;
}

/**
 * PAID payments by the UTC day they were paid on, less what refunds gave back of them, every day present
 * (stats_revenue_days). A payment refunded in full is REFUNDED and counts no more.
 */
export function revenuePerDayQuery(firstDay: Date, days: number) {
  return sql`
    select to_char(${day(firstDay)} + d.i, 'YYYY-MM-DD') as day, coalesce(sum(s.payments), 0) as n,
           coalesce(sum(s.amount_minor - s.refunded_minor), 0) as amount
    from generate_series(0, ${days - 1}) as d(i)
    left join stats_revenue_days s on s.day = ${day(firstDay)} + d.i
    group by d.i
    order by d.i`;
}

/** Collapses the stats summaries' change rows (stats_fold in the 0011 migration); exact before and after. */
export async function foldSummaries(db: Executor): Promise<void> {
  await db.execute(sql`select stats_fold()`);
}

export async function revenuePerDay(db: Executor, firstDay: Date, days: number): Promise<DayRevenue[]> {
  const rows = await selectRows(db, revenuePerDayQuery(firstDay, days));
  return rows.map((r) => ({ date: String(r.day), payments: num(r.n), revenueMinor: num(r.amount) }));
}
