-- stats_cancellations (stats/repo.ts cancellationsQuery)
select count(*) as n,
  count(*) filter (where exists (
    select 1
    from payments p
    where p.booking_id = b.id and p.status in ('PAID', 'REFUNDED'))) as paid
from bookings b
where b.status = 'CANCEL'
