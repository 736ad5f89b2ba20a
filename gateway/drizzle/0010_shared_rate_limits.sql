-- Limits shared by every gateway instance (writes, sign-in, sign-up, device codes). Unlogged: no WAL flush
-- per counted request; a crash only resets the counters.
CREATE UNLOGGED TABLE "rate_limits" (
	"key" text PRIMARY KEY NOT NULL,
	"points" integer DEFAULT 0 NOT NULL,
	"expire" timestamp with time zone
);
