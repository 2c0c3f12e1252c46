-- stats_booking_status_groups (stats/repo.ts bookingStatusGroupsQuery)
select status,
  sum(bookings) as n,
  sum(guests) as guests
from stats_booking_days
group by status
having sum(bookings) > 0
