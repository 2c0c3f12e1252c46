-- stats_user_groups (stats/repo.ts userGroupsQuery)
-- $1 = "2024-03-24T12:00:00.000Z"
-- $2 = "2024-03-01T12:00:00.000Z"
select is_deleted,
  is_active,
  role,
  count(*) as n,
  count(*) filter (where created_at >= $1::timestamptz) as n7,
  count(*) filter (where created_at >= $2::timestamptz) as n30
from users
group by is_deleted,
  is_active,
  role
