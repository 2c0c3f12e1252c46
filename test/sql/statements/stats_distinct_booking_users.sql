-- stats_distinct_booking_users (stats/repo.ts distinctBookingUsersQuery)
select sum(n) as n
from stats_counters
where name = 'booking_users'
