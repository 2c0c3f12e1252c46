-- stats_most_booked_tours (stats/repo.ts mostBookedToursQuery)
-- $1 = 5
select c.tour_id,
  c.n,
  t.title,
  t.slug
from (
  select tour_id,
    count(*) as n
  from bookings
  where status in ('PENDING', 'COMPLETE')
  group by tour_id
  order by n desc,
    tour_id
  limit $1) c
join tours t on t.id = c.tour_id
order by c.n desc,
  c.tour_id
