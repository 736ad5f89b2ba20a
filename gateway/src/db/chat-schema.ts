import { sql } from "drizzle-orm";
import { bigserial, index, integer, jsonb, pgSchema, text, timestamp } from "drizzle-orm/pg-core";
import { user } from "./auth-schema.ts";

/** ChatKit threads and items, in a schema of their own: the chat is not task data. */
export const chat = pgSchema("chat");

const at = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const chatThreads = chat.table(
  "threads",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    title: text("title"),
    /** ThreadStatus JSON ({type: "active"} …). */
    status: jsonb("status").notNull().default(sql`'{"type":"active"}'::jsonb`),
    allowedImageDomains: jsonb("allowed_image_domains").$type<string[]>(),
    /** Server-private (pending confirmations); never sent to clients. */
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    seq: bigserial("seq", { mode: "number" }).notNull(),
    createdAt: at("created_at").notNull().defaultNow(),
    /** Last activity: retention counts from here. */
    updatedAt: at("updated_at").notNull().defaultNow(),
  },
  (t) => [
    index("chat_threads_user_seq_idx").on(t.userId, t.seq),
    index("chat_threads_updated_idx").on(t.updatedAt),
  ],
);

export const chatItems = chat.table(
  "items",
  {
    id: text("id").primaryKey(),
    threadId: text("thread_id")
      .notNull()
      .references(() => chatThreads.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    type: text("type").notNull(),
    /** The ThreadItem as sent on the wire: JSON, so protocol changes need no migration. */
    data: jsonb("data").$type<Record<string, unknown>>().notNull(),
    /** Insertion order: several items can share a timestamp. */
    seq: bigserial("seq", { mode: "number" }).notNull(),
    feedback: text("feedback"),
    createdAt: at("created_at").notNull().defaultNow(),
  },
  // user_id: deleting an account cascades along it.
  (t) => [
    index("chat_items_thread_seq_idx").on(t.threadId, t.seq),
    index("chat_items_user_idx").on(t.userId),
  ],
);

/** Fixed-window counters for the per-user chat-turn limit, shared by every gateway instance. */
export const chatTurnCounts = chat.table("turn_counts", {
  key: text("key").primaryKey(),
  hits: integer("hits").notNull(),
  windowStart: at("window_start").notNull(),
});
