-- stats_refund_groups (stats/repo.ts refundGroupsQuery)
select status,
  sum(refunds) as n,
  sum(amount_minor) as amount
from stats_refund_groups
group by status
having sum(refunds) > 0
