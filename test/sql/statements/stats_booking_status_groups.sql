-- stats_booking_status_groups (stats/repo.ts bookingStatusGroupsQuery)
select status,
  count(*) as n,
  sum(guest_count) as guests
from bookings
group by status
