import { integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";

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
