CREATE INDEX "bookings_counted_tour_idx" ON "bookings" USING btree ("tour_id") WHERE "bookings"."status" in ('PENDING', 'COMPLETE');--> statement-breakpoint
CREATE INDEX "bookings_status_guests_idx" ON "bookings" USING btree ("status","guest_count");--> statement-breakpoint
CREATE INDEX "bookings_user_only_idx" ON "bookings" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "payments_stats_idx" ON "payments" USING btree ("status","gateway_status","amount_minor");--> statement-breakpoint
CREATE INDEX "payments_revenue_idx" ON "payments" USING btree ("paid_at","amount_minor") WHERE "payments"."status" = 'PAID';--> statement-breakpoint
CREATE INDEX "users_stats_idx" ON "users" USING btree ("is_deleted","is_active","role","created_at");