-- stats_upcoming_tour_occupancy (stats/repo.ts upcomingTourOccupancyQuery)
-- $1 = "2024-03-24T12:00:00.000Z"
-- $2 = 5
select t.id,
  t.title,
  t.slug,
  t.start_date,
  t.max_guest,
  s.sold,
  s.held
from (
  select id,
    title,
    slug,
    start_date,
    max_guest
  from tours
  where start_date > $1::timestamptz
  order by start_date,
    id
  limit $2) t
cross join lateral (
  select coalesce(sum(guest_count) filter (where status = 'COMPLETE'), 0) as sold,
    coalesce(sum(guest_count) filter (where status = 'PENDING' and seats_held), 0) as held
  from bookings b
  where b.tour_id = t.id) s
order by t.start_date,
  t.id
