-- stats_payment_groups (stats/repo.ts paymentGroupsQuery)
select status,
  gateway_status,
  count(*) as n,
  sum(amount_minor) as amount,
  sum(refunded_minor) as refunded
from payments
group by status,
  gateway_status
