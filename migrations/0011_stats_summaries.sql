CREATE TABLE "stats_booking_days" (
	"day" date NOT NULL,
	"status" text NOT NULL,
	"bookings" bigint NOT NULL,
	"guests" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stats_booking_users" (
	"user_id" uuid PRIMARY KEY NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stats_counters" (
	"name" text NOT NULL,
	"n" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stats_payment_groups" (
	"status" text NOT NULL,
	"gateway_status" text,
	"payments" bigint NOT NULL,
	"amount_minor" bigint NOT NULL,
	"refunded_minor" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stats_refund_groups" (
	"status" text NOT NULL,
	"refunds" bigint NOT NULL,
	"amount_minor" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stats_revenue_days" (
	"day" date NOT NULL,
	"payments" bigint NOT NULL,
	"amount_minor" bigint NOT NULL,
	"refunded_minor" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stats_tour_bookings" (
	"tour_id" uuid NOT NULL,
	"bookings" bigint NOT NULL,
	"folded" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stats_tour_groups" (
	"tour_type_id" uuid,
	"division_id" uuid,
	"tours" bigint NOT NULL,
	"priced" bigint NOT NULL,
	"cost_from_minor" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stats_user_groups" (
	"is_deleted" boolean NOT NULL,
	"is_active" text NOT NULL,
	"role" text NOT NULL,
	"users" bigint NOT NULL
);
--> statement-breakpoint
DROP INDEX "bookings_counted_tour_idx";--> statement-breakpoint
DROP INDEX "bookings_user_only_idx";--> statement-breakpoint
DROP INDEX "payments_revenue_idx";--> statement-breakpoint
CREATE INDEX "stats_booking_days_day_idx" ON "stats_booking_days" USING btree ("day","status");--> statement-breakpoint
CREATE INDEX "stats_revenue_days_day_idx" ON "stats_revenue_days" USING btree ("day");--> statement-breakpoint
CREATE UNIQUE INDEX "stats_tour_bookings_folded_key" ON "stats_tour_bookings" USING btree ("tour_id") WHERE "stats_tour_bookings"."folded";--> statement-breakpoint
CREATE INDEX "stats_tour_bookings_rank_idx" ON "stats_tour_bookings" USING btree ("bookings" desc,"tour_id") WHERE "stats_tour_bookings"."folded";--> statement-breakpoint
CREATE INDEX "stats_tour_bookings_changes_idx" ON "stats_tour_bookings" USING btree ("tour_id") WHERE not "stats_tour_bookings"."folded";--> statement-breakpoint
CREATE INDEX "users_live_created_idx" ON "users" USING btree ("created_at") WHERE not "users"."is_deleted";--> statement-breakpoint
-- Admin statistics kept exact by triggers (see src/db/schema/stats.ts). Every trigger inserts changes as
-- rows of their own (-1 for the row's old state, +1 for its new one) and never updates a summary row, so
-- concurrent bookings do not wait for each other on a hot row.
CREATE FUNCTION stats_bookings_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  was_counted boolean := false;
  is_counted boolean := false;
  was_cancelled boolean := false;
  is_cancelled boolean := false;
  target uuid;
BEGIN
  IF TG_OP <> 'INSERT' THEN
    target := OLD.id;
    INSERT INTO stats_booking_days (day, status, bookings, guests)
      VALUES ((OLD.created_at AT TIME ZONE 'UTC')::date, OLD.status, -1, -OLD.guest_count);
    was_counted := OLD.status IN ('PENDING', 'COMPLETE');
    was_cancelled := OLD.status = 'CANCEL';
  END IF;
  IF TG_OP <> 'DELETE' THEN
    target := NEW.id;
    INSERT INTO stats_booking_days (day, status, bookings, guests)
      VALUES ((NEW.created_at AT TIME ZONE 'UTC')::date, NEW.status, 1, NEW.guest_count);
    is_counted := NEW.status IN ('PENDING', 'COMPLETE');
    is_cancelled := NEW.status = 'CANCEL';
  END IF;
  IF TG_OP = 'UPDATE' AND OLD.tour_id = NEW.tour_id AND was_counted = is_counted THEN
    NULL;
  ELSE
    IF was_counted THEN
      INSERT INTO stats_tour_bookings (tour_id, bookings) VALUES (OLD.tour_id, -1);
    END IF;
    IF is_counted THEN
      INSERT INTO stats_tour_bookings (tour_id, bookings) VALUES (NEW.tour_id, 1);
    END IF;
  END IF;
  IF TG_OP = 'INSERT' THEN
    -- The unique key makes a user's first booking the only one that counts, even when two race.
    INSERT INTO stats_booking_users (user_id) VALUES (NEW.user_id) ON CONFLICT DO NOTHING;
    IF FOUND THEN
      INSERT INTO stats_counters (name, n) VALUES ('booking_users', 1);
    END IF;
  END IF;
  -- Every writer of a booking or its payment locks the booking first, so the payment read here is current.
  IF was_cancelled <> is_cancelled AND EXISTS (
    SELECT 1 FROM payments p WHERE p.booking_id = target AND p.status IN ('PAID', 'REFUNDED')
  ) THEN
    INSERT INTO stats_counters (name, n) VALUES ('cancelled_after_payment', CASE WHEN is_cancelled THEN 1 ELSE -1 END);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE FUNCTION stats_payments_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  was_received boolean := false;
  is_received boolean := false;
  target uuid;
BEGIN
  IF TG_OP <> 'INSERT' THEN
    target := OLD.booking_id;
    INSERT INTO stats_payment_groups (status, gateway_status, payments, amount_minor, refunded_minor)
      VALUES (OLD.status, OLD.gateway_status, -1, -OLD.amount_minor, -OLD.refunded_minor);
    IF OLD.status = 'PAID' AND OLD.paid_at IS NOT NULL THEN
      INSERT INTO stats_revenue_days (day, payments, amount_minor, refunded_minor)
        VALUES ((OLD.paid_at AT TIME ZONE 'UTC')::date, -1, -OLD.amount_minor, -OLD.refunded_minor);
    END IF;
    was_received := OLD.status IN ('PAID', 'REFUNDED');
  END IF;
  IF TG_OP <> 'DELETE' THEN
    target := NEW.booking_id;
    INSERT INTO stats_payment_groups (status, gateway_status, payments, amount_minor, refunded_minor)
      VALUES (NEW.status, NEW.gateway_status, 1, NEW.amount_minor, NEW.refunded_minor);
    IF NEW.status = 'PAID' AND NEW.paid_at IS NOT NULL THEN
      INSERT INTO stats_revenue_days (day, payments, amount_minor, refunded_minor)
        VALUES ((NEW.paid_at AT TIME ZONE 'UTC')::date, 1, NEW.amount_minor, NEW.refunded_minor);
    END IF;
    is_received := NEW.status IN ('PAID', 'REFUNDED');
  END IF;
  IF was_received <> is_received AND EXISTS (
    SELECT 1 FROM bookings b WHERE b.id = target AND b.status = 'CANCEL'
  ) THEN
    INSERT INTO stats_counters (name, n) VALUES ('cancelled_after_payment', CASE WHEN is_received THEN 1 ELSE -1 END);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE FUNCTION stats_refunds_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    INSERT INTO stats_refund_groups (status, refunds, amount_minor) VALUES (OLD.status, -1, -OLD.amount_minor);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO stats_refund_groups (status, refunds, amount_minor) VALUES (NEW.status, 1, NEW.amount_minor);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE FUNCTION stats_tours_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    INSERT INTO stats_tour_groups (tour_type_id, division_id, tours, priced, cost_from_minor)
      VALUES (OLD.tour_type_id, OLD.division_id, -1, -(OLD.cost_from_minor IS NOT NULL)::int, -coalesce(OLD.cost_from_minor, 0));
  END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO stats_tour_groups (tour_type_id, division_id, tours, priced, cost_from_minor)
      VALUES (NEW.tour_type_id, NEW.division_id, 1, (NEW.cost_from_minor IS NOT NULL)::int, coalesce(NEW.cost_from_minor, 0));
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE FUNCTION stats_users_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    INSERT INTO stats_user_groups (is_deleted, is_active, role, users) VALUES (OLD.is_deleted, OLD.is_active, OLD.role, -1);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO stats_user_groups (is_deleted, is_active, role, users) VALUES (NEW.is_deleted, NEW.is_active, NEW.role, 1);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER stats_bookings_written AFTER INSERT OR DELETE ON bookings
  FOR EACH ROW EXECUTE FUNCTION stats_bookings_changed();
--> statement-breakpoint
CREATE TRIGGER stats_bookings_updated AFTER UPDATE ON bookings FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.guest_count IS DISTINCT FROM NEW.guest_count
        OR OLD.created_at IS DISTINCT FROM NEW.created_at OR OLD.tour_id IS DISTINCT FROM NEW.tour_id)
  EXECUTE FUNCTION stats_bookings_changed();
--> statement-breakpoint
CREATE TRIGGER stats_payments_written AFTER INSERT OR DELETE ON payments
  FOR EACH ROW EXECUTE FUNCTION stats_payments_changed();
--> statement-breakpoint
CREATE TRIGGER stats_payments_updated AFTER UPDATE ON payments FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.gateway_status IS DISTINCT FROM NEW.gateway_status
        OR OLD.amount_minor IS DISTINCT FROM NEW.amount_minor OR OLD.refunded_minor IS DISTINCT FROM NEW.refunded_minor
        OR OLD.paid_at IS DISTINCT FROM NEW.paid_at OR OLD.booking_id IS DISTINCT FROM NEW.booking_id)
  EXECUTE FUNCTION stats_payments_changed();
--> statement-breakpoint
CREATE TRIGGER stats_refunds_written AFTER INSERT OR DELETE ON refunds
  FOR EACH ROW EXECUTE FUNCTION stats_refunds_changed();
--> statement-breakpoint
CREATE TRIGGER stats_refunds_updated AFTER UPDATE ON refunds FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.amount_minor IS DISTINCT FROM NEW.amount_minor)
  EXECUTE FUNCTION stats_refunds_changed();
--> statement-breakpoint
CREATE TRIGGER stats_tours_written AFTER INSERT OR DELETE ON tours
  FOR EACH ROW EXECUTE FUNCTION stats_tours_changed();
--> statement-breakpoint
CREATE TRIGGER stats_tours_updated AFTER UPDATE ON tours FOR EACH ROW
  WHEN (OLD.tour_type_id IS DISTINCT FROM NEW.tour_type_id OR OLD.division_id IS DISTINCT FROM NEW.division_id
        OR OLD.cost_from_minor IS DISTINCT FROM NEW.cost_from_minor)
  EXECUTE FUNCTION stats_tours_changed();
--> statement-breakpoint
CREATE TRIGGER stats_users_written AFTER INSERT OR DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION stats_users_changed();
--> statement-breakpoint
CREATE TRIGGER stats_users_updated AFTER UPDATE ON users FOR EACH ROW
  WHEN (OLD.is_deleted IS DISTINCT FROM NEW.is_deleted OR OLD.is_active IS DISTINCT FROM NEW.is_active
        OR OLD.role IS DISTINCT FROM NEW.role)
  EXECUTE FUNCTION stats_users_changed();
--> statement-breakpoint
-- Collapses each key's rows into one. Rows a concurrent writer inserts are not seen and stay for the next
-- fold; a concurrent fold waits for this one's deletes and then skips those rows, so nothing counts twice.
-- The per-day tables (a row per day and key for years) rewrite only the keys that have changes.
CREATE FUNCTION stats_fold() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  WITH changed AS (SELECT day, status FROM stats_booking_days GROUP BY day, status HAVING count(*) > 1),
  gone AS (
    DELETE FROM stats_booking_days s USING changed c WHERE s.day = c.day AND s.status = c.status RETURNING s.*
  )
  INSERT INTO stats_booking_days (day, status, bookings, guests)
    SELECT day, status, sum(bookings), sum(guests) FROM gone GROUP BY day, status
    HAVING sum(bookings) <> 0 OR sum(guests) <> 0;
  WITH gone AS (DELETE FROM stats_tour_bookings WHERE NOT folded RETURNING *)
  INSERT INTO stats_tour_bookings AS t (tour_id, bookings, folded)
    SELECT tour_id, sum(bookings), true FROM gone GROUP BY tour_id
    ON CONFLICT (tour_id) WHERE folded DO UPDATE SET bookings = t.bookings + excluded.bookings;
  DELETE FROM stats_tour_bookings WHERE folded AND bookings = 0;
  WITH gone AS (DELETE FROM stats_counters RETURNING *)
  INSERT INTO stats_counters (name, n) SELECT name, sum(n) FROM gone GROUP BY name HAVING sum(n) <> 0;
  WITH gone AS (DELETE FROM stats_payment_groups RETURNING *)
  INSERT INTO stats_payment_groups (status, gateway_status, payments, amount_minor, refunded_minor)
    SELECT status, gateway_status, sum(payments), sum(amount_minor), sum(refunded_minor) FROM gone
    GROUP BY status, gateway_status
    HAVING sum(payments) <> 0 OR sum(amount_minor) <> 0 OR sum(refunded_minor) <> 0;
  WITH changed AS (SELECT day FROM stats_revenue_days GROUP BY day HAVING count(*) > 1),
  gone AS (DELETE FROM stats_revenue_days s USING changed c WHERE s.day = c.day RETURNING s.*)
  INSERT INTO stats_revenue_days (day, payments, amount_minor, refunded_minor)
    SELECT day, sum(payments), sum(amount_minor), sum(refunded_minor) FROM gone GROUP BY day
    HAVING sum(payments) <> 0 OR sum(amount_minor) <> 0 OR sum(refunded_minor) <> 0;
  WITH gone AS (DELETE FROM stats_refund_groups RETURNING *)
  INSERT INTO stats_refund_groups (status, refunds, amount_minor)
    SELECT status, sum(refunds), sum(amount_minor) FROM gone GROUP BY status
    HAVING sum(refunds) <> 0 OR sum(amount_minor) <> 0;
  WITH gone AS (DELETE FROM stats_tour_groups RETURNING *)
  INSERT INTO stats_tour_groups (tour_type_id, division_id, tours, priced, cost_from_minor)
    SELECT tour_type_id, division_id, sum(tours), sum(priced), sum(cost_from_minor) FROM gone
    GROUP BY tour_type_id, division_id
    HAVING sum(tours) <> 0 OR sum(priced) <> 0 OR sum(cost_from_minor) <> 0;
  WITH gone AS (DELETE FROM stats_user_groups RETURNING *)
  INSERT INTO stats_user_groups (is_deleted, is_active, role, users)
    SELECT is_deleted, is_active, role, sum(users) FROM gone GROUP BY is_deleted, is_active, role
    HAVING sum(users) <> 0;
END
$$;
--> statement-breakpoint
-- Recomputes every summary from the tables it describes. The share locks keep writers out meanwhile, so
-- the result is exact.
CREATE FUNCTION stats_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  LOCK TABLE users, tours, bookings, payments, refunds IN SHARE MODE;
  DELETE FROM stats_booking_days;
  DELETE FROM stats_tour_bookings;
  DELETE FROM stats_booking_users;
  DELETE FROM stats_counters;
  DELETE FROM stats_payment_groups;
  DELETE FROM stats_revenue_days;
  DELETE FROM stats_refund_groups;
  DELETE FROM stats_user_groups;
  DELETE FROM stats_tour_groups;
  INSERT INTO stats_booking_days (day, status, bookings, guests)
    SELECT (created_at AT TIME ZONE 'UTC')::date, status, count(*), sum(guest_count) FROM bookings
    GROUP BY 1, 2;
  INSERT INTO stats_tour_bookings (tour_id, bookings, folded)
    SELECT tour_id, count(*), true FROM bookings WHERE status IN ('PENDING', 'COMPLETE') GROUP BY tour_id;
  INSERT INTO stats_booking_users (user_id) SELECT DISTINCT user_id FROM bookings;
  INSERT INTO stats_counters (name, n)
    SELECT 'booking_users', count(*) FROM stats_booking_users
    UNION ALL
    SELECT 'cancelled_after_payment', count(*) FROM bookings b JOIN payments p ON p.booking_id = b.id
    WHERE b.status = 'CANCEL' AND p.status IN ('PAID', 'REFUNDED');
  INSERT INTO stats_payment_groups (status, gateway_status, payments, amount_minor, refunded_minor)
    SELECT status, gateway_status, count(*), sum(amount_minor), sum(refunded_minor) FROM payments
    GROUP BY status, gateway_status;
  INSERT INTO stats_revenue_days (day, payments, amount_minor, refunded_minor)
    SELECT (paid_at AT TIME ZONE 'UTC')::date, count(*), sum(amount_minor), sum(refunded_minor) FROM payments
    WHERE status = 'PAID' AND paid_at IS NOT NULL GROUP BY 1;
  INSERT INTO stats_refund_groups (status, refunds, amount_minor)
    SELECT status, count(*), sum(amount_minor) FROM refunds GROUP BY status;
  INSERT INTO stats_user_groups (is_deleted, is_active, role, users)
    SELECT is_deleted, is_active, role, count(*) FROM users GROUP BY is_deleted, is_active, role;
  INSERT INTO stats_tour_groups (tour_type_id, division_id, tours, priced, cost_from_minor)
    SELECT tour_type_id, division_id, count(*), count(cost_from_minor), coalesce(sum(cost_from_minor), 0) FROM tours
    GROUP BY tour_type_id, division_id;
END
$$;
--> statement-breakpoint
SELECT stats_rebuild();
