-- stats_refund_groups (stats/repo.ts refundGroupsQuery)
select status,
  count(*) as n,
  sum(amount_minor) as amount
from refunds
group by status
