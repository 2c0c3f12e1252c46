import type { Database } from '../../db/client.js';
import { BOOKING_STATUSES, PAYMENT_STATUSES, REFUND_STATUSES, ROLES } from '../../db/schema/index.js';
import type { Clock } from '../../lib/clock.js';
import { DEFAULT_CURRENCY, toMajor } from '../../lib/money.js';
import { CONFIRMED } from '../bookings/state.js';
import { PAID } from '../payments/state.js';
import * as repo from './repo.js';
import type { BookingStats, PaymentStats, TourStats, UserStats } from './schemas.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const HIGHEST_BOOKED_TOURS = 5;
const BOOKINGS_PER_TOUR = 10;

const round = (value: number, decimals: number) => Number(value.toFixed(decimals));
const ratio = (part: number, whole: number, decimals = 4) => (whole > 0 ? round(part / whole, decimals) : 0);
/** An average of minor units, shown in major units rounded to the poisha. */
const averageMajor = (totalMinor: number, n: number) => (n > 0 ? toMajor(Math.round(totalMinor / n)) : 0);
const sumOf = <T>(items: T[], pick: (item: T) => number) => items.reduce((acc, item) => acc + pick(item), 0);

/** Start of the UTC day `days - 1` days before `now`'s, so the series ends with today. */
const firstDayOfSeries = (now: Date, days: number) => {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(today - (days - 1) * DAY_MS);
};

const bookedTourView = (t: repo.BookedTour) => ({
  _id: t.tourId,
  bookingCount: t.bookingCount,
  tour: { title: t.title, slug: t.slug },
});

/**
 * Admin statistics. Time windows are computed from the clock on every call. Independent figures are
 * queried concurrently; a total and its breakdown always come from the same statement.
 */
export function createStatsService(deps: { db: Database; clock: Clock }) {
  const { db, clock } = deps;

  /** Refunds completed (count and amount), and every refund by status. */
  function refundFigures(groups: repo.RefundGroup[]) {
    const completed = groups.filter((g) => g.status === 'REFUNDED');
    return {
      count: sumOf(completed, (g) => g.count),
      amount: toMajor(sumOf(completed, (g) => g.amountMinor)),
      byStatus: REFUND_STATUSES.map((status) => {
        const of = groups.filter((g) => g.status === status);
        return {
          _id: status,
          count: sumOf(of, (g) => g.count),
          amount: toMajor(sumOf(of, (g) => g.amountMinor)),
        };
      }),
    };
  }

  /** Deleted users are left out of every user figure (they are reported apart as totalDeletedUsers). */
  async function userStats(): Promise<UserStats> {
    const now = clock.now().getTime();
    const figures = await repo.userGroups(db, new Date(now - 7 * DAY_MS), new Date(now - 30 * DAY_MS));
    const groups = figures.groups;
    const live = groups.filter((g) => !g.isDeleted);
    const withState = (state: string) => sumOf(live, (g) => (g.isActive === state ? g.count : 0));
    const active = withState('ACTIVE');
    return {
      totalUsers: sumOf(live, (g) => g.count),
      totalActiveUsers: active,
      totalActiveUser: active,
      totalInActiveUsers: withState('INACTIVE'),
      totalBlockedUsers: withState('BLOCKED'),
      totalDeletedUsers: sumOf(groups, (g) => (g.isDeleted ? g.count : 0)),
      newUsersInLast7Days: figures.createdSince7Days,
      newUsersInLast30Days: figures.createdSince30Days,
      usersByRole: ROLES.map((role) => ({
        _id: role,
        count: sumOf(live, (g) => (g.role === role ? g.count : 0)),
      })),
    };
  }

  async function tourStats(options: { upcomingLimit: number }): Promise<TourStats> {
    const now = clock.now();
    const [totals, byType, byDivision, mostBooked, upcoming] = await Promise.all([
      repo.tourTotals(db),
      repo.toursPerTourType(db),
      repo.toursPerDivision(db),
      repo.mostBookedTours(db, HIGHEST_BOOKED_TOURS),
      repo.upcomingTourOccupancy(db, now, options.upcomingLimit),
    ]);
    const perType = byType.map((t) => ({ _id: t.name, count: t.count }));
    return {
      totalTour: totals.total,
      totalTourByTourType: perType,
      totalTourByTourTypes: perType,
      avgTourCost: [{ _id: null, avgCostFrom: toMajor(Math.round(totals.avgCostFromMinor)) }],
      totalTourByDivision: byDivision.map((d) => ({ _id: d.name, count: d.count })),
      totalHighestBookedTour: mostBooked.map(bookedTourView),
      upcomingTourOccupancy: upcoming.map((t) => ({
        _id: t.tourId,
        title: t.title,
        slug: t.slug,
        startDate: t.startDate.toISOString(),
        capacity: t.capacity,
        seatsSold: t.seatsSold,
        seatsHeld: t.seatsHeld,
        occupancy: t.capacity && t.capacity > 0 ? round(t.seatsSold / t.capacity, 4) : null,
      })),
    };
  }

  async function bookingStats(options: { days: number }): Promise<BookingStats> {
    const now = clock.now();
    const since30Days = new Date(now.getTime() - 30 * DAY_MS);
    const [groups, recent, uniqueUsers, perTour, perDay, cancelled, refunds] = await Promise.all([
      repo.bookingStatusGroups(db),
      repo.recentBookings(db, new Date(now.getTime() - 7 * DAY_MS), since30Days),
      repo.distinctBookingUsers(db),
      repo.mostBookedTours(db, BOOKINGS_PER_TOUR),
      repo.bookingsPerDay(db, firstDayOfSeries(now, options.days), options.days),
      repo.cancellations(db),
      repo.refundGroups(db),
    ]);
    const total = sumOf(groups, (g) => g.count);
    const withStatus = (status: string) => sumOf(groups, (g) => (g.status === status ? g.count : 0));
    const avgGuests = total > 0 ? round(sumOf(groups, (g) => g.guests) / total, 2) : 0;
    return {
      totalBooking: total,
      totalBookingByStatus: BOOKING_STATUSES.map((status) => ({ _id: status, count: withStatus(status) })),
      bookingsPerTour: perTour.map(bookedTourView),
      avgGuestCountPerBooking: avgGuests,
      avgGuestPerBooking: avgGuests,
      bookingsLast7Days: recent.since7Days,
      bookingsLast30Days: recent.since30Days,
      bookingLastThirty: recent.since30Days,
      totalBookingByUniqueUsers: uniqueUsers,
      bookingsPerDay: perDay,
      conversion: {
        createdBookings: total,
        paidBookings: withStatus(CONFIRMED),
        rate: ratio(withStatus(CONFIRMED), total),
      },
      conversionLast30Days: {
        createdBookings: recent.since30Days,
        paidBookings: recent.completeSince30Days,
        rate: ratio(recent.completeSince30Days, recent.since30Days),
      },
      cancellations: cancelled,
      refunds: refundFigures(refunds),
    };
  }

  /**
   * Revenue is what PAID payments brought in less what refunds gave back of them (a payment refunded in full is
   * REFUNDED and brings in nothing); the average amount is that of PAID payments as paid.
   */
  async function paymentStats(options: { days: number }): Promise<PaymentStats> {
    const now = clock.now();
    const [groups, perDay, cancelled, refunds] = await Promise.all([
      repo.paymentGroups(db),
      repo.revenuePerDay(db, firstDayOfSeries(now, options.days), options.days),
      repo.cancellations(db),
      repo.refundGroups(db),
    ]);
    const paid = groups.filter((g) => g.status === PAID);
    const paidMinor = sumOf(paid, (g) => g.amountMinor);
    const revenueMinor = paidMinor - sumOf(paid, (g) => g.refundedMinor);
    const average = averageMajor(
      paidMinor,
      sumOf(paid, (g) => g.count),
    );
    const byGatewayStatus = new Map<string, number>();
    for (const g of groups) {
      const key = g.gatewayStatus ?? 'UNKNOWN';
      byGatewayStatus.set(key, (byGatewayStatus.get(key) ?? 0) + g.count);
    }
    return {
      totalPayment: sumOf(groups, (g) => g.count),
      totalPaymentByStatus: PAYMENT_STATUSES.map((status) => ({
        _id: status,
        count: sumOf(groups, (g) => (g.status === status ? g.count : 0)),
      })),
      totalRevenue: [{ _id: null, totalRevenue: toMajor(revenueMinor) }],
      avgPaymentAmount: [{ _id: null, avgPaymentAMount: average, avgPaymentAmount: average }],
      paymentGatewayData: [...byGatewayStatus]
        .map(([key, n]) => ({ _id: key, count: n }))
        .sort((a, b) => b.count - a.count || a._id.localeCompare(b._id)),
      currency: DEFAULT_CURRENCY,
      revenuePerDay: perDay.map((d) => ({
        date: d.date,
        revenue: toMajor(d.revenueMinor),
        payments: d.payments,
      })),
      cancellations: cancelled,
      refunds: refundFigures(refunds),
    };
  }

  return { userStats, tourStats, bookingStats, paymentStats };
}

export type StatsService = ReturnType<typeof createStatsService>;
