-- stats_revenue_per_day (stats/repo.ts revenuePerDayQuery)
-- $1 = "2024-03-02"
-- $2 = 29
-- $3 = "2024-03-02"
select to_char($1::date + d.i, 'YYYY-MM-DD') as day,
  coalesce(sum(s.payments), 0) as n,
  coalesce(sum(s.amount_minor - s.refunded_minor), 0) as amount
from generate_series(0, $2) as d(i)
left join stats_revenue_days s on s.day = $3::date + d.i
group by d.i
order by d.i
