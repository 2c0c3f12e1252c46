-- sign_in_account
-- $1 = :key
-- $2 = 1
-- $3 = :now
-- $4 = :now
-- $5 = :now
-- $6 = :now
-- $7 = :now
-- $8 = :now
-- $9 = :now
-- $10 = :now
-- $11 = :email
with "reservation" as (
  insert into "auth_throttle" ("key", "failures", "last_failure_at", "blocked_until")
  values ($1, $2, $3, case when 1 < 5 then null::timestamptz else $4::timestamptz + make_interval(secs => least(900, 30 * power(2, least(1 - 5, 20)))) end)
  on conflict ("key")
  do update set "failures" = case when "auth_throttle"."last_failure_at" is null or "auth_throttle"."last_failure_at" < $5::timestamptz - make_interval(secs => 3600) then 1 else "auth_throttle"."failures" + 1 end,
    "last_failure_at" = $6::timestamptz,
    "blocked_until" = case when case when "auth_throttle"."last_failure_at" is null or "auth_throttle"."last_failure_at" < $7::timestamptz - make_interval(secs => 3600) then 1 else "auth_throttle"."failures" + 1 end < 5 then null::timestamptz else $8::timestamptz + make_interval(secs => least(900, 30 * power(2, least(case when "auth_throttle"."last_failure_at" is null or "auth_throttle"."last_failure_at" < $9::timestamptz - make_interval(secs => 3600) then 1 else "auth_throttle"."failures" + 1 end - 5, 20)))) end
  where "auth_throttle"."blocked_until" is null or "auth_throttle"."blocked_until" <= $10::timestamptz
  returning "failures")
select exists (select 1 from "reservation"),
  (select failures from "reservation"),
  "users"."id",
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
  "users"."password_hash"
from (select $11::text as email) as attempt
left join "users" on "users"."email" = attempt.email
