-- stats_tours_per_division (stats/repo.ts toursPerDivisionQuery)
select d.name,
  coalesce(c.n, 0) as n
from divisions d
left join (
  select division_id,
    sum(tours) as n
  from stats_tour_groups
  group by division_id) c on c.division_id = d.id
order by n desc,
  lower(d.name),
  d.id
