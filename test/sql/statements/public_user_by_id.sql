-- public_user_by_id
-- $1 = :id
select "id",
  "name",
  "email",
  "role",
  "phone",
  "picture",
  "address",
  "is_deleted",
  "is_active",
  "is_verified",
  "created_at",
  "updated_at",
  coalesce((
    select json_agg(json_build_object('provider', "user_auths"."provider", 'providerId', "user_auths"."provider_id") order by "user_auths"."created_at")
    from "user_auths"
    where "user_auths"."user_id" = "users"."id"), '[]'::json)
from "users"
where "users"."id" = $1
