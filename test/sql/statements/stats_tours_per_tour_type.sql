-- stats_tours_per_tour_type (stats/repo.ts toursPerTourTypeQuery)
select tt.name,
  coalesce(c.n, 0) as n
from tour_types tt
left join (
  select tour_type_id,
    sum(tours) as n
  from stats_tour_groups
  group by tour_type_id) c on c.tour_type_id = tt.id
order by n desc,
  lower(tt.name),
  tt.id
