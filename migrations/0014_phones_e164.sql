-- Phone numbers are stored in E.164 from now on (src/lib/phone.ts). The API used to keep them as typed, in
-- one of the two forms it accepted: `01XXXXXXXXX` or `+8801XXXXXXXXX`. The national form becomes the E.164
-- one; anything else (already E.164, or written by hand outside the API) is left as it is.
UPDATE "users" SET "phone" = '+88' || "phone" WHERE "phone" ~ '^01[0-9]{9}$';
