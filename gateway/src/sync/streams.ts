import type { AuthChanges } from "../auth/session-events.ts";
import type { Logger } from "../logger.ts";

/** Why the gateway ended a live stream; sent to the client as the `event: closed` reason. */
export type CloseReason = "signed_out" | "session_expired" | "too_many_streams";

export type OpenStream = { userId: string; sessionId: string; close(reason: CloseReason): void };

export type StreamRegistry = {
  /** Registers an open stream; past the per-user cap the user's oldest stream is closed. Returns remove(). */
  add(stream: OpenStream): () => void;
  count(): number;
  close(): void;
};

/**
 * The open `/api/changes` streams of this process, by user and session. A session's streams end when it
 * ends on any instance (sign-out, revocation, password change, account deletion: `auth_changes`); after a
 * lost LISTEN every stream's session is checked again.
 */
export function createStreamRegistry(
  authChanges: AuthChanges,
  opts: { maxPerUser: number; logger: Logger },
): StreamRegistry {
  const log = opts.logger.child({ component: "streams" });
  // Insertion order is age order: the first entry is the oldest.
  const byUser = new Map<string, Set<OpenStream>>();
  let total = 0;

  const closeWhere = (userId: string, match: (s: OpenStream) => boolean, reason: CloseReason) => {
    for (const stream of [...(byUser.get(userId) ?? [])]) if (match(stream)) stream.close(reason);
  };

  const unsubscribe = authChanges.subscribe({
    onChange(change) {
      if (change.kind === "session_revoked") {
        closeWhere(change.user_id, (s) => s.sessionId === change.session_id, "signed_out");
      } else if (change.kind === "user_deleted") {
        closeWhere(change.user_id, () => true, "signed_out");
      }
    },
    onResync() {
      const streams = [...byUser.values()].flatMap((set) => [...set]);
      authChanges.liveSessionIds([...new Set(streams.map((s) => s.sessionId))]).then(
        (live) => {
          for (const s of streams) if (!live.has(s.sessionId)) s.close("signed_out");
        },
        (err) => log.warn({ err }, "could not recheck stream sessions"),
      );
    },
  });

  return {
    add(stream) {
      let set = byUser.get(stream.userId);
      if (!set) {
        set = new Set();
        byUser.set(stream.userId, set);
      }
      set.add(stream);
      total++;
      while (set.size > opts.maxPerUser) {
        const oldest = set.values().next().value as OpenStream;
        set.delete(oldest);
        total--;
        oldest.close("too_many_streams");
      }
      const owner = set;
      return () => {
        if (!owner.delete(stream)) return;
        total--;
        if (owner.size === 0 && byUser.get(stream.userId) === owner) byUser.delete(stream.userId);
      };
    },
    count: () => total,
    close() {
      unsubscribe();
      byUser.clear();
      total = 0;
    },
  };
}
