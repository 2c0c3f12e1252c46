-- stats_tour_totals (stats/repo.ts tourTotalsQuery)
select count(*) as total,
  avg(cost_from_minor) as avg_cost
from tours
