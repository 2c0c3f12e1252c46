-- stats_upcoming_tour_occupancy (stats/repo.ts upcomingTourOccupancyQuery)
-- $1 = "2024-03-24T12:00:00.000Z"
-- $2 = 5
select t.id,
  t.title,
  t.slug,
  d.start_date,
  d.capacity,
  s.sold,
  s.held
from (
  select id,
    tour_id,
    start_date,
    capacity
  from departures
  where start_date > $1::timestamptz and status = 'SCHEDULED'
  order by start_date,
    id
  limit $2) d
join tours t on t.id = d.tour_id
cross join lateral (
  select coalesce(sum(guest_count) filter (where status = 'COMPLETE'), 0) as sold,
    coalesce(sum(guest_count) filter (where status = 'PENDING' and seats_held), 0) as held
  from bookings b
  where b.departure_id = d.id) s
order by d.start_date,
  d.id
