-- A user's change-log rows must become visible in seq order, or a reader resuming "after seq N" could skip
-- a row that commits late with a lower seq. Taking a per-user transaction lock before drawing the seq makes
-- one user's writes draw and commit their seqs in order (other users are unaffected).
CREATE OR REPLACE FUNCTION task_changes_order() RETURNS trigger AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('task_changes'), hashtext(NEW.user_id));
  NEW.seq := nextval(pg_get_serial_sequence('task_changes', 'seq'));
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER task_changes_order_trg BEFORE INSERT ON "task_changes"
  FOR EACH ROW EXECUTE FUNCTION task_changes_order();
