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
    select tour_id
    from (
      select tour_id
      from stats_tour_bookings
      where folded
      order by bookings desc,
        tour_id
      limit $1 + (select count(*) from changed)) top
    union
    select tour_id
    from changed),
  c as (
    select k.tour_id,
      coalesce((
        select f.bookings
        from stats_tour_bookings f
        where f.tour_id = k.tour_id and f.folded), 0) + coalesce((
          select ch.n
          from changed ch
          where ch.tour_id = k.tour_id), 0) as n
    from candidates k)
select c.tour_id,
  c.n,
  t.title,
  t.slug
from c
join tours t on t.id = c.tour_id
where c.n > 0
order by c.n desc,
  c.tour_id
limit $2
