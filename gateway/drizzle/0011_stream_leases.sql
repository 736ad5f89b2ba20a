-- Open live streams of every gateway instance, so the per-user stream limit is one budget across instances.
-- Each row is a lease its instance renews; a dead instance's rows expire and stop counting.
CREATE TABLE "stream_leases" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"instance_id" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "stream_leases" ADD CONSTRAINT "stream_leases_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "stream_leases_user_idx" ON "stream_leases" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "stream_leases_instance_idx" ON "stream_leases" USING btree ("instance_id");
