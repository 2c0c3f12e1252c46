-- auth_guard_profile
-- $1 = :sid
-- $2 = 1
select "users"."id" as "id",
  "users"."name" as "name",
  "users"."email" as "email",
  "users"."role" as "role",
  "users"."phone" as "phone",
  "users"."picture" as "picture",
  "users"."address" as "address",
  "users"."is_deleted" as "isDeleted",
  "users"."is_active" as "isActive",
  "users"."is_verified" as "isVerified",
  to_char("users"."created_at" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "createdAt",
  to_char("users"."updated_at" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "updatedAt",
  coalesce((
    select json_agg(json_build_object('provider', "user_auths"."provider", 'providerId', "user_auths"."provider_id") order by "user_auths"."created_at")
    from "user_auths"
    where "user_auths"."user_id" = "users"."id"), '[]'::json) as "auths",
  "sessions"."user_id" as "sessionUserId",
  to_char("sessions"."revoked_at" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "revokedAt",
  to_char("sessions"."absolute_expires_at" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "absoluteExpiresAt"
from "sessions"
inner join "users" on "users"."id" = "sessions"."user_id"
where "sessions"."id" = $1
limit $2
