-- stats_payment_groups (stats/repo.ts paymentGroupsQuery)
select status,
  gateway_status,
  sum(payments) as n,
  sum(amount_minor) as amount,
  sum(refunded_minor) as refunded
from stats_payment_groups
group by status,
  gateway_status
having sum(payments) > 0
