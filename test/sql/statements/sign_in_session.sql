-- sign_in_session
-- $1 = :id
-- $2 = :userId
-- $3 = 0
-- $4 = :currentTokenHash
-- $5 = :currentIssuedAt
-- $6 = :createdAt
-- $7 = :lastUsedAt
-- $8 = :idleExpiresAt
-- $9 = :absoluteExpiresAt
-- $10 = :ip
-- $11 = :userAgent
-- $12 = :provider
-- $13 = :throttleKey
-- $14 = :eventId
-- $15 = :email
with "opened" as (
  insert into "sessions" ("id", "user_id", "generation", "current_token_hash", "previous_token_hash", "current_issued_at", "rotated_at", "created_at", "last_used_at", "idle_expires_at", "absolute_expires_at", "revoked_at", "revoked_reason", "ip", "user_agent", "provider")
  values ($1, $2, $3, $4, default, $5, default, $6, $7, $8, $9, default, default, $10, $11, $12)
  returning "id",
    "user_id",
    "ip",
    "user_agent",
    "provider",
    "created_at"),
  "cleared" as (
    delete from "auth_throttle"
    where "auth_throttle"."key" = $13
    returning "key")
insert into "security_events" ("id", "type", "user_id", "actor_id", "email", "ip", "user_agent", "details", "created_at")
select $14::uuid,
  'sign_in',
  "opened"."user_id",
  null::uuid,
  $15::text,
  "opened"."ip",
  "opened"."user_agent",
  jsonb_build_object('sessionId', "opened"."id", 'provider', "opened"."provider"),
  "opened"."created_at"
from "opened"
