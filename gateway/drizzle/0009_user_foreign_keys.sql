-- Every row that belongs to a user now references "user" ON DELETE CASCADE: deleting an account deletes all of
-- it in one statement, and a token still alive for a deleted account cannot write new rows for it.
-- Rows of users that no longer exist were unreachable (no account can sign in as them); they go first, or the
-- constraints could not be added.
DELETE FROM "tasks" t WHERE NOT EXISTS (SELECT 1 FROM "user" u WHERE u.id = t.user_id);--> statement-breakpoint
DELETE FROM "task_changes" c WHERE NOT EXISTS (SELECT 1 FROM "user" u WHERE u.id = c.user_id);--> statement-breakpoint
DELETE FROM "chat"."threads" t WHERE NOT EXISTS (SELECT 1 FROM "user" u WHERE u.id = t.user_id);--> statement-breakpoint
DELETE FROM "chat"."items" i WHERE NOT EXISTS (SELECT 1 FROM "user" u WHERE u.id = i.user_id);--> statement-breakpoint
DELETE FROM "apikey" k WHERE NOT EXISTS (SELECT 1 FROM "user" u WHERE u.id = k.reference_id);--> statement-breakpoint
UPDATE "device_code" d SET user_id = NULL WHERE user_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "user" u WHERE u.id = d.user_id);--> statement-breakpoint
ALTER TABLE "apikey" ADD CONSTRAINT "apikey_reference_id_user_id_fk" FOREIGN KEY ("reference_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "device_code" ADD CONSTRAINT "device_code_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chat"."items" ADD CONSTRAINT "items_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chat"."threads" ADD CONSTRAINT "threads_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "task_changes" ADD CONSTRAINT "task_changes_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_user_id_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."user"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "chat_items_user_idx" ON "chat"."items" USING btree ("user_id");