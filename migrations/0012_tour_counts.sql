CREATE TABLE "tour_counts" (
	"scope" text NOT NULL,
	"key" text NOT NULL,
	"n" integer NOT NULL,
	CONSTRAINT "tour_counts_scope_key_pk" PRIMARY KEY("scope","key"),
	CONSTRAINT "tour_counts_scope_check" CHECK ("tour_counts"."scope" in ('all','division','tour_type'))
);
--> statement-breakpoint
-- The counts are kept by triggers, so every writer (the app, seeds, bulk loads, hand-written SQL) keeps them
-- exact in its own transaction. Each trigger adds its changes in one statement, in (scope, key) order with the
-- 'all' row first: concurrent tour writers queue on that row instead of deadlocking on the others.
CREATE FUNCTION "tour_counts_added"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO "tour_counts" AS c ("scope", "key", "n")
	SELECT "scope", "key", sum("d")::int FROM (
		SELECT 'all' AS "scope", '' AS "key", 1 AS "d" FROM "added"
		UNION ALL SELECT 'division', "division_id"::text, 1 FROM "added"
		UNION ALL SELECT 'tour_type', "tour_type_id"::text, 1 FROM "added"
	) AS x GROUP BY "scope", "key" ORDER BY "scope", "key"
	ON CONFLICT ("scope", "key") DO UPDATE SET "n" = c."n" + excluded."n";
	RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION "tour_counts_removed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO "tour_counts" AS c ("scope", "key", "n")
	SELECT "scope", "key", sum("d")::int FROM (
		SELECT 'all' AS "scope", '' AS "key", -1 AS "d" FROM "removed"
		UNION ALL SELECT 'division', "division_id"::text, -1 FROM "removed"
		UNION ALL SELECT 'tour_type', "tour_type_id"::text, -1 FROM "removed"
	) AS x GROUP BY "scope", "key" ORDER BY "scope", "key"
	ON CONFLICT ("scope", "key") DO UPDATE SET "n" = c."n" + excluded."n";
	RETURN NULL;
END $$;
--> statement-breakpoint
-- A tour moved to another division or tour type; the 'all' row is locked (unchanged) to keep the order.
CREATE FUNCTION "tour_counts_moved"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO "tour_counts" AS c ("scope", "key", "n")
	SELECT "scope", "key", sum("d")::int FROM (VALUES
		('all', '', 0),
		('division', OLD."division_id"::text, -1),
		('division', NEW."division_id"::text, 1),
		('tour_type', OLD."tour_type_id"::text, -1),
		('tour_type', NEW."tour_type_id"::text, 1)
	) AS x ("scope", "key", "d") GROUP BY "scope", "key" ORDER BY "scope", "key"
	ON CONFLICT ("scope", "key") DO UPDATE SET "n" = c."n" + excluded."n";
	RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION "tour_counts_emptied"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM "tour_counts";
	INSERT INTO "tour_counts" ("scope", "key", "n") VALUES ('all', '', 0);
	RETURN NULL;
END $$;
--> statement-breakpoint
-- Writers wait until the counts are filled and the triggers are in place.
LOCK TABLE "tours" IN SHARE MODE;
--> statement-breakpoint
CREATE TRIGGER "tours_counted_insert" AFTER INSERT ON "tours" REFERENCING NEW TABLE AS "added"
	FOR EACH STATEMENT EXECUTE FUNCTION "tour_counts_added"();
--> statement-breakpoint
CREATE TRIGGER "tours_counted_delete" AFTER DELETE ON "tours" REFERENCING OLD TABLE AS "removed"
	FOR EACH STATEMENT EXECUTE FUNCTION "tour_counts_removed"();
--> statement-breakpoint
CREATE TRIGGER "tours_counted_move" AFTER UPDATE OF "division_id", "tour_type_id" ON "tours" FOR EACH ROW
	WHEN (OLD."division_id" IS DISTINCT FROM NEW."division_id" OR OLD."tour_type_id" IS DISTINCT FROM NEW."tour_type_id")
	EXECUTE FUNCTION "tour_counts_moved"();
--> statement-breakpoint
CREATE TRIGGER "tours_counted_truncate" AFTER TRUNCATE ON "tours"
	FOR EACH STATEMENT EXECUTE FUNCTION "tour_counts_emptied"();
--> statement-breakpoint
INSERT INTO "tour_counts" ("scope", "key", "n")
SELECT 'all', '', count(*)::int FROM "tours"
UNION ALL SELECT 'division', "division_id"::text, count(*)::int FROM "tours" GROUP BY "division_id"
UNION ALL SELECT 'tour_type', "tour_type_id"::text, count(*)::int FROM "tours" GROUP BY "tour_type_id";
