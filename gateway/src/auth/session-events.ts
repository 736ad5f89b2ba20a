import { inArray } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "../db/connect.ts";
import { session } from "../db/schema.ts";
import type { Logger } from "../logger.ts";

/** Postgres channel fed by triggers on `session` and `user` (drizzle/0004_auth_changes_notify.sql). */
export const AUTH_CHANGES_CHANNEL = "auth_changes";

const AuthChangeSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("session_revoked"), session_id: z.string(), user_id: z.string() }),
  // An API key deleted, or its access changed (enabled, expiry, owner): drizzle/0013_api_key_changes_notify.sql.
  z.object({ kind: z.literal("api_key_changed"), key_id: z.string(), user_id: z.string() }),
  z.object({ kind: z.literal("user_changed"), user_id: z.string() }),
  z.object({ kind: z.literal("user_deleted"), user_id: z.string() }),
]);

/** A session ended, an API key changed, or a user changed or was deleted, on any instance. */
export type AuthChange = z.infer<typeof AuthChangeSchema>;

export type AuthChanges = {
  /** Starts the LISTEN. */
  start(): Promise<void>;
  /**
   * `onChange` gets every change; `onResync` runs after a lost connection is re-established, when changes
   * may have been missed: holders of sessions should check them again (see `liveSessionIds`).
   */
  subscribe(listener: { onChange(change: AuthChange): void; onResync?(): void }): () => void;
  /** Which of these session ids still exist. */
  liveSessionIds(ids: string[]): Promise<Set<string>>;
  close(): Promise<void>;
};

/** One LISTEN per process on `auth_changes`, fanned out to listeners (live streams; issue 11's session cache). */
export function createAuthChanges(database: Database, opts: { logger: Logger }): AuthChanges {
  const log = opts.logger.child({ component: "auth-changes" });
  const listeners = new Set<Parameters<AuthChanges["subscribe"]>[0]>();
  let unlisten: (() => Promise<void>) | undefined;
  let listens = 0;

  const each = (fn: (l: Parameters<AuthChanges["subscribe"]>[0]) => void) => {
    for (const l of listeners) {
      try {
        fn(l);
      } catch (err) {
        log.warn({ err }, "auth change listener failed");
      }
    }
  };

  function onNotify(payload: string) {
    let change: AuthChange;
    try {
      change = AuthChangeSchema.parse(JSON.parse(payload));
    } catch {
      log.warn("unreadable auth_changes notification");
      return;
    }
    each((l) => l.onChange(change));
  }

  function onListen() {
    if (++listens > 1) {
      log.warn({ listens }, "re-listened on auth_changes; rechecking sessions");
      each((l) => l.onResync?.());
    }
  }

  return {
    async start() {
      unlisten = await database.listen(AUTH_CHANGES_CHANNEL, onNotify, onListen);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    async liveSessionIds(ids) {
      if (ids.length === 0) return new Set();
      const rows = await database.db.select({ id: session.id }).from(session).where(inArray(session.id, ids));
      return new Set(rows.map((r) => r.id));
    },
    async close() {
      listeners.clear();
      await unlisten?.();
    },
  };
}
