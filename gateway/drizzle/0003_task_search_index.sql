-- pg_trgm makes ILIKE '%…%' indexable; btree_gin lets the same GIN index hold user_id. Both are trusted
-- extensions (a database owner may create them) and ship with Postgres' contrib and with PGlite.
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
CREATE EXTENSION IF NOT EXISTS btree_gin;--> statement-breakpoint
CREATE INDEX "tasks_user_search_idx" ON "tasks" USING gin ("user_id","title" gin_trgm_ops,"notes" gin_trgm_ops) WHERE deleted_at is null;
