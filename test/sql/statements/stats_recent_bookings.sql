-- stats_recent_bookings (stats/repo.ts recentBookingsQuery)
-- $1 = "2024-03-24T12:00:00.000Z"
-- $2 = "2024-03-25T00:00:00.000Z"
-- $3 = "2024-03-01T12:00:00.000Z"
-- $4 = "2024-03-02T00:00:00.000Z"
-- $5 = "2024-03-25"
-- $6 = "2024-03-02"
select e7.n + d.n7 as n7,
  e30.n + d.n30 as n30,
  e30.complete + d.complete30 as complete30
from (
  select count(*) as n
  from bookings
  where created_at >= $1::timestamptz and created_at < $2::timestamptz) e7
cross join (
  select count(*) as n,
    count(*) filter (where status = 'COMPLETE') as complete
  from bookings
  where created_at >= $3::timestamptz and created_at < $4::timestamptz) e30
cross join (
  select coalesce(sum(bookings) filter (where day >= $5::date), 0) as n7,
    coalesce(sum(bookings), 0) as n30,
    coalesce(sum(bookings) filter (where status = 'COMPLETE'), 0) as complete30
  from stats_booking_days
  where day >= $6::date) d
