CREATE TABLE "departures" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tour_id" uuid NOT NULL,
	"start_date" timestamp with time zone NOT NULL,
	"end_date" timestamp with time zone NOT NULL,
	"capacity" integer,
	"seats_booked" integer DEFAULT 0 NOT NULL,
	"price_minor" bigint,
	"currency" text DEFAULT 'BDT' NOT NULL,
	"status" text DEFAULT 'SCHEDULED' NOT NULL,
	"guide_id" uuid,
	"cancel_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "departures_status_check" CHECK ("departures"."status" in ('SCHEDULED','CLOSED','CANCELLED')),
	CONSTRAINT "departures_seats_check" CHECK ("departures"."seats_booked" >= 0 and ("departures"."capacity" is null or "departures"."seats_booked" <= "departures"."capacity")),
	CONSTRAINT "departures_capacity_check" CHECK ("departures"."capacity" is null or "departures"."capacity" >= 0),
	CONSTRAINT "departures_price_check" CHECK ("departures"."price_minor" is null or "departures"."price_minor" >= 0),
	CONSTRAINT "departures_dates_check" CHECK ("departures"."end_date" >= "departures"."start_date")
);
--> statement-breakpoint
ALTER TABLE "tours" DROP CONSTRAINT "tours_seats_check";--> statement-breakpoint
ALTER TABLE "tours" DROP CONSTRAINT "tours_dates_check";--> statement-breakpoint
DROP INDEX "tours_start_date_idx";--> statement-breakpoint
-- Every existing tour gets one departure from its own dates and seats. A tour without dates never had a run
-- to sell: its departure is placed at the tour's creation (in the past, so nothing more is sold on it) rather
-- than at an invented future date, and an operator schedules real departures for it. The id is a UUIDv7
-- built from the tour's creation time, like the ids the app writes (no extension needed, so PGlite runs it).
INSERT INTO "departures" ("id", "tour_id", "start_date", "end_date", "capacity", "seats_booked", "currency", "status", "created_at", "updated_at")
SELECT
	overlay(overlay(replace(gen_random_uuid()::text, '-', '')
		placing lpad(to_hex(floor(extract(epoch from t."created_at") * 1000)::bigint), 12, '0') from 1 for 12)
		placing '7' from 13 for 1)::uuid,
	t."id",
	coalesce(t."start_date", t."end_date", t."created_at"),
	greatest(coalesce(t."end_date", t."start_date", t."created_at"), coalesce(t."start_date", t."end_date", t."created_at")),
	t."max_guest",
	t."seats_booked",
	t."currency",
	'SCHEDULED',
	t."created_at",
	now()
FROM "tours" t;--> statement-breakpoint
ALTER TABLE "bookings" ADD COLUMN "departure_id" uuid;--> statement-breakpoint
UPDATE "bookings" b SET "departure_id" = d."id" FROM "departures" d WHERE d."tour_id" = b."tour_id";--> statement-breakpoint
ALTER TABLE "bookings" ALTER COLUMN "departure_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "departures" ADD CONSTRAINT "departures_tour_id_tours_id_fk" FOREIGN KEY ("tour_id") REFERENCES "public"."tours"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "departures" ADD CONSTRAINT "departures_guide_id_users_id_fk" FOREIGN KEY ("guide_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "departures_tour_start_key" ON "departures" USING btree ("tour_id","start_date");--> statement-breakpoint
CREATE INDEX "departures_tour_upcoming_idx" ON "departures" USING btree ("tour_id","start_date") WHERE "departures"."status" = 'SCHEDULED';--> statement-breakpoint
CREATE INDEX "departures_start_date_idx" ON "departures" USING btree ("start_date");--> statement-breakpoint
CREATE INDEX "departures_guide_id_idx" ON "departures" USING btree ("guide_id");--> statement-breakpoint
ALTER TABLE "bookings" ADD CONSTRAINT "bookings_departure_id_departures_id_fk" FOREIGN KEY ("departure_id") REFERENCES "public"."departures"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "bookings_departure_id_idx" ON "bookings" USING btree ("departure_id");--> statement-breakpoint
ALTER TABLE "tours" DROP COLUMN "start_date";--> statement-breakpoint
ALTER TABLE "tours" DROP COLUMN "end_date";--> statement-breakpoint
ALTER TABLE "tours" DROP COLUMN "seats_booked";