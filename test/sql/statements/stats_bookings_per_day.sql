-- stats_bookings_per_day (stats/repo.ts bookingsPerDayQuery)
-- $1 = "2024-03-02T00:00:00.000Z"
-- $2 = "2024-03-02T00:00:00.000Z"
-- $3 = "2024-03-02T00:00:00.000Z"
-- $4 = 29
select to_char(($1::timestamptz + d.i * interval '24 hours') at time zone 'UTC', 'YYYY-MM-DD') as day,
  (
    select count(*)
    from bookings b
    where b.created_at >= $2::timestamptz + d.i * interval '24 hours' and b.created_at < $3::timestamptz + (d.i + 1) * interval '24 hours') as n
from generate_series(0, $4) as d(i)
order by d.i
