-- API keys are cached by every gateway instance like sessions (auth/session-cache.ts): a key deleted, disabled,
-- cut short or moved to another user must drop out of every cache at once. Ids only; never a key. Each use of a
-- key updates its row too (last use), which must not notify: only the columns that decide access do.
CREATE OR REPLACE FUNCTION auth_changes_notify() RETURNS trigger AS $$
BEGIN
  IF TG_TABLE_NAME = 'session' THEN
    PERFORM pg_notify('auth_changes', json_build_object('kind', 'session_revoked', 'session_id', OLD.id, 'user_id', OLD.user_id)::text);
  ELSIF TG_TABLE_NAME = 'apikey' THEN
    PERFORM pg_notify('auth_changes', json_build_object('kind', 'api_key_changed', 'key_id', OLD.id, 'user_id', OLD.reference_id)::text);
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('auth_changes', json_build_object('kind', 'user_deleted', 'user_id', OLD.id)::text);
  ELSE
    PERFORM pg_notify('auth_changes', json_build_object('kind', 'user_changed', 'user_id', NEW.id)::text);
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER apikey_deleted_auth_changes AFTER DELETE ON "apikey"
  FOR EACH ROW EXECUTE FUNCTION auth_changes_notify();
--> statement-breakpoint
CREATE TRIGGER apikey_access_auth_changes AFTER UPDATE ON "apikey"
  FOR EACH ROW WHEN (
    OLD.enabled IS DISTINCT FROM NEW.enabled
    OR OLD.expires_at IS DISTINCT FROM NEW.expires_at
    OR OLD.key IS DISTINCT FROM NEW.key
    OR OLD.reference_id IS DISTINCT FROM NEW.reference_id
    OR OLD.remaining IS DISTINCT FROM NEW.remaining
  ) EXECUTE FUNCTION auth_changes_notify();
