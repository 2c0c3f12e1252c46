-- stats_revenue_per_day (stats/repo.ts revenuePerDayQuery)
-- $1 = "2024-03-02T00:00:00.000Z"
-- $2 = 29
-- $3 = "2024-03-02T00:00:00.000Z"
-- $4 = "2024-03-02T00:00:00.000Z"
select to_char(($1::timestamptz + d.i * interval '24 hours') at time zone 'UTC', 'YYYY-MM-DD') as day,
  s.n,
  s.amount
from generate_series(0, $2) as d(i)
cross join lateral (
  select count(*) as n,
    coalesce(sum(p.amount_minor - p.refunded_minor), 0) as amount
  from payments p
  where p.status = 'PAID' and p.paid_at >= $3::timestamptz + d.i * interval '24 hours' and p.paid_at < $4::timestamptz + (d.i + 1) * interval '24 hours') s
order by d.i
