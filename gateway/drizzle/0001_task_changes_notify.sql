-- Every change-log row is announced with ids only; listeners fetch the rows themselves.
-- NOTIFY inside a transaction is delivered on COMMIT and never on ROLLBACK.
CREATE OR REPLACE FUNCTION task_changes_notify() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('task_changes', json_build_object('seq', NEW.seq, 'user_id', NEW.user_id, 'task_id', NEW.task_id)::text);
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER task_changes_notify_trg AFTER INSERT ON "task_changes"
  FOR EACH ROW EXECUTE FUNCTION task_changes_notify();
