-- A new task and its change-log row, as one call (the repository's ADD_TASK). Why a function: the app's
-- connections plan every statement afresh (plan_cache_mode = force_custom_plan, for the list queries), and for
-- an insert that meant planning the statement, both foreign-key checks and the change-log triggers' queries on
-- every add, about 0.1 ms. An insert's plan never depends on its values, so inside this function the cached
-- generic plans are used. Parameters are named after the columns and the repository calls them by name, so a
-- column added to "tasks" without a new version of this function fails loudly instead of being left out.
-- Returns the task's id, or null when the idempotency key was used before (nothing is inserted then).
CREATE FUNCTION margin_add_task(
  "id" uuid, "user_id" text, "title" text, "notes" text, "status" text, "priority" text, "due_at" timestamptz,
  "due_date_only" boolean, "due_tz" text, "due_phrase" text, "recurrence" text, "labels" text[],
  "source_url" text, "source_title" text, "source_excerpt" text, "idempotency_key" text,
  "idempotency_hash" text, "position" double precision, "created_at" timestamptz, "updated_at" timestamptz,
  "completed_at" timestamptz, "deleted_at" timestamptz, "snapshot" jsonb
) RETURNS uuid LANGUAGE plpgsql SET plan_cache_mode = auto AS $$
#variable_conflict use_column
DECLARE
  added uuid;
BEGIN
  WITH t AS (
    INSERT INTO tasks ("id", "user_id", "title", "notes", "status", "priority", "due_at", "due_date_only",
      "due_tz", "due_phrase", "recurrence", "labels", "source_url", "source_title", "source_excerpt",
      "idempotency_key", "idempotency_hash", "position", "created_at", "updated_at", "completed_at", "deleted_at")
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
    ON CONFLICT ("user_id", "idempotency_key") DO NOTHING
    RETURNING "id", "user_id"
  )
  INSERT INTO task_changes ("user_id", "task_id", "op", "task")
  SELECT t."user_id", t."id", 'created', $23 FROM t
  RETURNING "task_id" INTO added;
  RETURN added;
END;
$$;
