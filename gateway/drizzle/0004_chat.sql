CREATE SCHEMA "chat";
--> statement-breakpoint
CREATE TABLE "chat"."items" (
	"id" text PRIMARY KEY NOT NULL,
	"thread_id" text NOT NULL,
	"user_id" text NOT NULL,
	"type" text NOT NULL,
	"data" jsonb NOT NULL,
	"seq" bigserial NOT NULL,
	"feedback" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "chat"."threads" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"title" text,
	"status" jsonb DEFAULT '{"type":"active"}'::jsonb NOT NULL,
	"allowed_image_domains" jsonb,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"seq" bigserial NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "chat"."turn_counts" (
	"key" text PRIMARY KEY NOT NULL,
	"hits" integer NOT NULL,
	"window_start" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "chat"."items" ADD CONSTRAINT "items_thread_id_threads_id_fk" FOREIGN KEY ("thread_id") REFERENCES "chat"."threads"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "chat_items_thread_seq_idx" ON "chat"."items" USING btree ("thread_id","seq");--> statement-breakpoint
CREATE INDEX "chat_threads_user_seq_idx" ON "chat"."threads" USING btree ("user_id","seq");--> statement-breakpoint
CREATE INDEX "chat_threads_updated_idx" ON "chat"."threads" USING btree ("updated_at");