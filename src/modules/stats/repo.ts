import { type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';

/*
 * Every figure is an aggregate computed by PostgreSQL; at most a few dozen group rows come back.
 * Each query is written so that figures a reader compares (a total and its breakdown) come from one
 * statement, hence one snapshot. The indexes these queries rely on are named next to each query; check a
 * change with EXPLAIN ANALYZE on the benchmark dataset (bench/dataset.ts). Each query is built by its exported
 * `...Query` function, whose SQL test/sql keeps, so a change to it shows in review.
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

export interface UserGroup {
  isDeleted: boolean;
  isActive: string;
  role: string;
  count: number;
  createdSince7Days: number;
  createdSince30Days: number;
}

/** Users grouped by deletion, state and role (index-only scan of users_stats_idx). */
export function userGroupsQuery(since7Days: Date, since30Days: Date) {
  return sql`
    select is_deleted, is_active, role, count(*) as n,
           count(*) filter (where created_at >= ${at(since7Days)}) as n7,
           count(*) filter (where created_at >= ${at(since30Days)}) as n30
    from users
    group by is_deleted, is_active, role`;
}

export async function userGroups(db: Executor, since7Days: Date, since30Days: Date): Promise<UserGroup[]> {
  const rows = await db.transaction(async (tx) => {
    // With the default random_page_cost (4, tuned for spinning disks) the planner prefers a scan of
    // the users table, which measures about twice as slow as the index-only scan on a cached table.
    await tx.execute(sql`set local random_page_cost = 1.1`);
    return selectRows(tx, userGroupsQuery(since7Days, since30Days));
  });
  return rows.map((r) => ({
    isDeleted: r.is_deleted === true,
    isActive: String(r.is_active),
    role: String(r.role),
    count: num(r.n),
    createdSince7Days: num(r.n7),
    createdSince30Days: num(r.n30),
  }));
}

export interface TourTotals {
  total: number;
  /** Average price per guest over tours that have a price, in minor units (unrounded). */
  avgCostFromMinor: number;
}

export function tourTotalsQuery() {
  return sql`
    select count(*) as total, avg(cost_from_minor) as avg_cost from tours`;
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

/** Every tour type with its number of tours (zero included), most tours first. */
export function toursPerTourTypeQuery() {
  return sql`
    select tt.name, coalesce(c.n, 0) as n
    from tour_types tt
    left join (select tour_type_id, count(*) as n from tours group by tour_type_id) c on c.tour_type_id = tt.id
    order by n desc, lower(tt.name), tt.id`;
}

export async function toursPerTourType(db: Executor): Promise<NamedCount[]> {
  const rows = await selectRows(db, toursPerTourTypeQuery());
  return rows.map((r) => ({ name: String(r.name), count: num(r.n) }));
}

/** Every division with its number of tours (zero included), most tours first. */
export function toursPerDivisionQuery() {
  return sql`
    select d.name, coalesce(c.n, 0) as n
    from divisions d
    left join (select division_id, count(*) as n from tours group by division_id) c on c.division_id = d.id
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
 * ties broken by tour id (index-only scan of the partial index bookings_counted_tour_idx).
 */
export function mostBookedToursQuery(limit: number) {
  return sql`
    select c.tour_id, c.n, t.title, t.slug
    from (
      select tour_id, count(*) as n from bookings
      where status in ('PENDING', 'COMPLETE')
      group by tour_id
      order by n desc, tour_id
      limit ${limit}
    ) c
    join tours t on t.id = c.tour_id
    order by c.n desc, c.tour_id`;
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

/** Bookings per status with their guests (index-only scan of bookings_status_guests_idx). */
export function bookingStatusGroupsQuery() {
  return sql`
    select status, count(*) as n, sum(guest_count) as guests from bookings group by status`;
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

/** Bookings created in the rolling windows (index-only range scan of bookings_created_status_idx). */
export function recentBookingsQuery(since7Days: Date, since30Days: Date) {
  return sql`
    select count(*) filter (where created_at >= ${at(since7Days)}) as n7,
           count(*) as n30,
           count(*) filter (where status = 'COMPLETE') as complete30
    from bookings where created_at >= ${at(since30Days)}`;
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

/** Distinct users who ever booked (index-only scan of bookings_user_id_idx). */
export function distinctBookingUsersQuery() {
  return sql`
    select count(*) as n from (select distinct user_id from bookings) u`;
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
 * Bookings created on each UTC day from `firstDay` (a UTC midnight) for `days` days, every day present.
 * 24-hour steps keep the buckets exact whatever the session time zone.
 */
export function bookingsPerDayQuery(firstDay: Date, days: number) {
  return sql`
    select to_char((${at(firstDay)} + d.i * interval '24 hours') at time zone 'UTC', 'YYYY-MM-DD') as day,
           (select count(*) from bookings b
            where b.created_at >= ${at(firstDay)} + d.i * interval '24 hours'
              and b.created_at < ${at(firstDay)} + (d.i + 1) * interval '24 hours') as n
    from generate_series(0, ${days - 1}) as d(i)
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
 * Payments per status and gateway status with their amounts and what refunds gave back of them (index-only
 * scan of payments_stats_idx).
 */
export function paymentGroupsQuery() {
  return sql`
    select status, gateway_status, count(*) as n, sum(amount_minor) as amount, sum(refunded_minor) as refunded
    from payments group by status, gateway_status`;
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

/** Refunds per status with their amounts (a scan of the refunds table, which stays small beside bookings). */
export function refundGroupsQuery() {
  return sql`
    select status, count(*) as n, sum(amount_minor) as amount from refunds group by status`;
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
 * Cancelled bookings, and how many of them had been paid (bookings_status_guests_idx finds them; the payment of
 * each is one probe of payments_booking_id_key).
 */
export function cancellationsQuery() {
  return sql`
    select count(*) as n,
           count(*) filter (where exists (
             select 1 from payments p where p.booking_id = b.id and p.status in ('PAID', 'REFUNDED')
           )) as paid
    from bookings b where b.status = 'CANCEL'`;
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
 * (partial index payments_revenue_idx). A payment refunded in full is REFUNDED and counts no more.
 */
export function revenuePerDayQuery(firstDay: Date, days: number) {
  return sql`
    select to_char((${at(firstDay)} + d.i * interval '24 hours') at time zone 'UTC', 'YYYY-MM-DD') as day,
           s.n, s.amount
    from generate_series(0, ${days - 1}) as d(i)
    cross join lateral (
      select count(*) as n, coalesce(sum(p.amount_minor - p.refunded_minor), 0) as amount from payments p
      where p.status = 'PAID'
        and p.paid_at >= ${at(firstDay)} + d.i * interval '24 hours'
        and p.paid_at < ${at(firstDay)} + (d.i + 1) * interval '24 hours'
    ) s
    order by d.i`;
}

export async function revenuePerDay(db: Executor, firstDay: Date, days: number): Promise<DayRevenue[]> {
  const rows = await selectRows(db, revenuePerDayQuery(firstDay, days));
  return rows.map((r) => ({ date: String(r.day), payments: num(r.n), revenueMinor: num(r.amount) }));
}
