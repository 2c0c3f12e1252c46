-- auth_guard_profile
-- $1 = :sid
-- $2 = 1
select "users"."id",
  "users"."name",
  "users"."email",
  "users"."role",
  "users"."phone",
  "users"."picture",
  "users"."address",
  "users"."is_deleted",
  "users"."is_active",
  "users"."is_verified",
  "users"."created_at",
  "users"."updated_at",
  coalesce((
    select json_agg(json_build_object('provider', "user_auths"."provider", 'providerId', "user_auths"."provider_id") order by "user_auths"."created_at")
    from "user_auths"
    where "user_auths"."user_id" = "users"."id"), '[]'::json),
  "sessions"."user_id",
  "sessions"."revoked_at",
  "sessions"."absolute_expires_at"
from "sessions"
inner join "users" on "users"."id" = "sessions"."user_id"
where "sessions"."id" = $1
limit $2
