-- auth_guard_session
-- $1 = :sid
-- $2 = 1
select "users"."id" as "id",
  "users"."email" as "email",
  "users"."role" as "role",
  "users"."is_active" as "isActive",
  "users"."is_deleted" as "isDeleted",
  "users"."is_verified" as "isVerified",
  "sessions"."user_id" as "sessionUserId",
  to_char("sessions"."revoked_at" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "revokedAt",
  to_char("sessions"."absolute_expires_at" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "absoluteExpiresAt"
from "sessions"
inner join "users" on "users"."id" = "sessions"."user_id"
where "sessions"."id" = $1
limit $2
