-- stats_recent_bookings (stats/repo.ts recentBookingsQuery)
-- $1 = "2024-03-24T12:00:00.000Z"
-- $2 = "2024-03-01T12:00:00.000Z"
select count(*) filter (where created_at >= $1::timestamptz) as n7,
  count(*) as n30,
  count(*) filter (where status = 'COMPLETE') as complete30
from bookings
where created_at >= $2::timestamptz
