-- stats_tour_totals (stats/repo.ts tourTotalsQuery)
select sum(tours) as total,
  sum(cost_from_minor) / nullif(sum(priced), 0) as avg_cost
from stats_tour_groups
