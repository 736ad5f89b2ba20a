-- Every gateway instance learns at once when a session ends (sign-out, revocation, password change, account
-- deletion, expiry clean-up) or a user changes: live streams close, and session caches (issue 11) drop
-- their entries. Ids only; never a token.
CREATE OR REPLACE FUNCTION auth_changes_notify() RETURNS trigger AS $$
BEGIN
  IF TG_TABLE_NAME = 'session' THEN
    PERFORM pg_notify('auth_changes', json_build_object('kind', 'session_revoked', 'session_id', OLD.id, 'user_id', OLD.user_id)::text);
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('auth_changes', json_build_object('kind', 'user_deleted', 'user_id', OLD.id)::text);
  ELSE
    PERFORM pg_notify('auth_changes', json_build_object('kind', 'user_changed', 'user_id', NEW.id)::text);
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER session_auth_changes AFTER DELETE ON "session"
  FOR EACH ROW EXECUTE FUNCTION auth_changes_notify();
--> statement-breakpoint
CREATE TRIGGER user_auth_changes AFTER UPDATE OR DELETE ON "user"
  FOR EACH ROW EXECUTE FUNCTION auth_changes_notify();
