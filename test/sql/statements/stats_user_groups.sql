-- stats_user_groups (stats/repo.ts userGroupsQuery)
-- $1 = "2024-03-24T12:00:00.000Z"
-- $2 = "2024-03-01T12:00:00.000Z"
select g.is_deleted,
  g.is_active,
  g.role,
  g.n,
  w.n7,
  w.n30
from (
  select is_deleted,
    is_active,
    role,
    sum(users) as n
  from stats_user_groups
  group by is_deleted,
    is_active,
    role
  having sum(users) > 0) g
cross join (
  select count(*) filter (where created_at >= $1::timestamptz) as n7,
    count(*) as n30
  from users
  where not is_deleted and created_at >= $2::timestamptz) w
