CREATE TABLE "payment_sessions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"payment_id" uuid NOT NULL,
	"transaction_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
DROP INDEX "refunds_payment_id_key";--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "polls" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "duplicate_val_id" text;--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "duplicate_bank_tran_id" text;--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "duplicate_tran_id" text;--> statement-breakpoint
ALTER TABLE "payment_sessions" ADD CONSTRAINT "payment_sessions_payment_id_payments_id_fk" FOREIGN KEY ("payment_id") REFERENCES "public"."payments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "payment_sessions_transaction_id_key" ON "payment_sessions" USING btree ("transaction_id");--> statement-breakpoint
CREATE INDEX "payment_sessions_payment_id_idx" ON "payment_sessions" USING btree ("payment_id");--> statement-breakpoint
CREATE INDEX "refunds_payment_id_idx" ON "refunds" USING btree ("payment_id");--> statement-breakpoint
CREATE UNIQUE INDEX "refunds_duplicate_val_id_key" ON "refunds" USING btree ("duplicate_val_id") WHERE "refunds"."duplicate_val_id" is not null;--> statement-breakpoint
-- Payments made before sessions were kept had their one session under their own transaction id: recorded, so
-- a later session for them gets a fresh id.
INSERT INTO "payment_sessions" ("id", "payment_id", "transaction_id", "created_at")
SELECT gen_random_uuid(), "id", "transaction_id", "created_at" FROM "payments";
