CREATE TABLE "legacy_ids" (
	"legacy_id" text NOT NULL,
	"collection" text NOT NULL,
	"new_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "legacy_ids_legacy_id_collection_pk" PRIMARY KEY("legacy_id","collection")
);
