-- stats_distinct_booking_users (stats/repo.ts distinctBookingUsersQuery)
select count(*) as n
from (select distinct user_id from bookings) u
