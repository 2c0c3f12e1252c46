-- stats_cancellations (stats/repo.ts cancellationsQuery)
select (
  select sum(bookings)
  from stats_booking_days
  where status = 'CANCEL') as n,
  (
    select sum(n)
    from stats_counters
    where name = 'cancelled_after_payment') as paid
