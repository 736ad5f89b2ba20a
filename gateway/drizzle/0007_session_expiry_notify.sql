-- A session cut short (its expiry moved earlier, e.g. by an operator ending it) is as good as revoked: every
-- instance's session cache must drop it at once, as it does for a deleted session.
CREATE TRIGGER session_expiry_auth_changes AFTER UPDATE OF expires_at ON "session"
  FOR EACH ROW WHEN (NEW.expires_at < OLD.expires_at) EXECUTE FUNCTION auth_changes_notify();
