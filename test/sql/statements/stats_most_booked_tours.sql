-- stats_most_booked_tours (stats/repo.ts mostBookedToursQuery)
-- $1 = 5
-- $2 = 5
with changed as (
  select tour_id,
    sum(bookings) as n
  from stats_tour_bookings
  where not folded
  group by tour_id),
  candidates as (
    select tour_id,
      bookings as n
    from (
      select f.tour_id,
        f.bookings
      from stats_tour_bookings f
      where f.folded and not exists (
        select 1
        from changed ch
        where ch.tour_id = f.tour_id)
      order by f.bookings desc,
        f.tour_id
      limit $1) unchanged
    union all
    select ch.tour_id,
      ch.n + coalesce((
        select f.bookings
        from stats_tour_bookings f
        where f.tour_id = ch.tour_id and f.folded), 0)
    from changed ch),
  top as (
    select tour_id,
      n
    from candidates
    where n > 0
    order by n desc,
      tour_id
    limit $2)
select top.tour_id,
  top.n,
  t.title,
  t.slug
from top
join tours t on t.id = top.tour_id
order by top.n desc,
  top.tour_id
