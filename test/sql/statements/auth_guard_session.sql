-- auth_guard_session
-- $1 = :sid
-- $2 = 1
select "users"."id",
  "users"."email",
  "users"."role",
  "users"."is_active",
  "users"."is_deleted",
  "users"."is_verified",
  "sessions"."user_id",
  "sessions"."revoked_at",
  "sessions"."absolute_expires_at"
from "sessions"
inner join "users" on "users"."id" = "sessions"."user_id"
where "sessions"."id" = $1
limit $2
