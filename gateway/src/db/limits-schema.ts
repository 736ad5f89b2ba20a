import { index, integer, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { user } from "./auth-schema.ts";

/**
 * Rate-limit counters every gateway instance shares (rate-limiter-flexible's drizzle store: key, points,
 * expire). Unlogged: a counter is not worth a WAL flush per request, and losing them in a crash only resets
 * the limits.
 */
export const rateLimits = pgTable("rate_limits", {
  key: text("key").primaryKey(),
  points: integer("points").notNull().default(0),
  expire: timestamp("expire", { withTimezone: true }),
});

/**
 * One row per open live stream (`GET /api/changes`) on any gateway instance: the per-user stream limit counts
 * them (db/stream-leases.ts). The instance renews its rows while the streams stay open; a row past `expires_at`
 * belongs to an instance that died and no longer counts.
 */
export const streamLeases = pgTable(
  "stream_leases",
  {
    id: uuid("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    instanceId: text("instance_id").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    // Past the limit, the user's oldest stream is closed first.
    openedAt: timestamp("opened_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("stream_leases_user_idx").on(t.userId), index("stream_leases_instance_idx").on(t.instanceId)],
);
