import type { CurrentSession, CurrentUser } from "./current-user.ts";
import type { AuthChanges } from "./session-events.ts";

export type CachedSession = { user: CurrentUser; session: CurrentSession };

export type SessionCacheOptions = {
  /**
   * How long a verified session is trusted without asking the store again. Revocations reach every instance
   * at once through `auth_changes`; this bounds the time a change missed while that LISTEN reconnects can
   * go unseen (the resync then clears the cache too).
   */
  ttlMs?: number;
  /** Most tokens held; past it the oldest entry goes. */
  maxEntries?: number;
  now?: () => number;
};

export type SessionCache = {
  get(token: string): CachedSession | undefined;
  /** A counter of the changes seen; take it before a lookup and pass it to `set`. */
  epoch(): number;
  /** Keeps a lookup's result, unless a change arrived since `epoch` (the result may predate it). */
  set(token: string, found: CachedSession, epoch: number): void;
  /** Drops every cached token of the user behind `token` (after that user's own sign-out, password change…). */
  forgetUserOf(token: string): void;
  /** Drops the tokens of one session (or API key) id, changed here: its NOTIFY comes a moment later. */
  forget(id: string): void;
  readonly size: number;
  close(): void;
};

export const DEFAULT_SESSION_CACHE_TTL_MS = 5_000;

/**
 * Verified bearer sessions, kept in-process for a few seconds so a request does not pay better-auth's
 * session lookup (a query and an HMAC) each time. Every gateway instance drops an entry as soon as
 * `auth_changes` says its session was revoked or its user changed or was deleted, on any instance.
 * /mcp keeps its API keys in one too, each key's id standing for the session's (dropped on `api_key_changed`).
 */
export function createSessionCache(changes: AuthChanges, opts: SessionCacheOptions = {}): SessionCache {
  const ttlMs = opts.ttlMs ?? DEFAULT_SESSION_CACHE_TTL_MS;
  const maxEntries = opts.maxEntries ?? 10_000;
  const now = opts.now ?? Date.now;
  const entries = new Map<string, CachedSession & { until: number }>();
  const tokensBySession = new Map<string, Set<string>>();
  const tokensByUser = new Map<string, Set<string>>();
  let changesSeen = 0;

  const index = (map: Map<string, Set<string>>, key: string, token: string) => {
    const set = map.get(key);
    if (set) set.add(token);
    else map.set(key, new Set([token]));
  };
  const unindex = (map: Map<string, Set<string>>, key: string, token: string) => {
    const set = map.get(key);
    set?.delete(token);
    if (set?.size === 0) map.delete(key);
  };
  const drop = (token: string) => {
    const entry = entries.get(token);
    if (!entry) return;
    entries.delete(token);
    unindex(tokensBySession, entry.session.id, token);
    unindex(tokensByUser, entry.user.id, token);
  };
  const dropAll = (tokens: Set<string> | undefined) => {
    for (const token of [...(tokens ?? [])]) drop(token);
  };

  const unsubscribe = changes.subscribe({
    onChange(change) {
      changesSeen++;
      if (change.kind === "session_revoked") dropAll(tokensBySession.get(change.session_id));
      else if (change.kind === "api_key_changed") dropAll(tokensBySession.get(change.key_id));
      else dropAll(tokensByUser.get(change.user_id));
    },
    onResync() {
      changesSeen++;
      entries.clear();
      tokensBySession.clear();
      tokensByUser.clear();
    },
  });

  return {
    get(token) {
      const entry = entries.get(token);
      if (!entry) return undefined;
      if (entry.until <= now()) {
        drop(token);
        return undefined;
      }
      return { user: entry.user, session: entry.session };
    },
    epoch: () => changesSeen,
    set(token, found, epoch) {
      if (epoch !== changesSeen) return;
      drop(token);
      if (entries.size >= maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) drop(oldest);
      }
      const until = Math.min(now() + ttlMs, found.session.expiresAt.getTime());
      if (until <= now()) return;
      entries.set(token, { ...found, until });
      index(tokensBySession, found.session.id, token);
      index(tokensByUser, found.user.id, token);
    },
    forgetUserOf(token) {
      const entry = entries.get(token);
      if (entry) dropAll(tokensByUser.get(entry.user.id));
    },
    forget(id) {
      dropAll(tokensBySession.get(id));
    },
    get size() {
      return entries.size;
    },
    close() {
      unsubscribe();
      entries.clear();
      tokensBySession.clear();
      tokensByUser.clear();
    },
  };
}
