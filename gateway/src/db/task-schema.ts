import { sql } from "drizzle-orm";
import {
  bigserial,
  boolean,
  check,
  doublePrecision,
  index,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { user } from "./auth-schema.ts";

export const PRIORITIES = ["low", "medium", "high"] as const;
export type Priority = (typeof PRIORITIES)[number];
export const STATUSES = ["pending", "completed"] as const;
export type Status = (typeof STATUSES)[number];
export const CHANGE_OPS = ["created", "updated", "completed", "reopened", "deleted", "restored"] as const;
export type ChangeOp = (typeof CHANGE_OPS)[number];

const at = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/** Sort key of a task in lists: due first (undated last), then position. Shared by index and queries. */
export const dueSortKey = sql`coalesce(due_at, 'infinity'::timestamptz)`;

export const tasks = pgTable(
  "tasks",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    // Deleting the account deletes its tasks; a token still alive for a deleted account cannot add new ones.
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    title: text("title").notNull(),
    notes: text("notes").notNull().default(""),
    status: text("status", { enum: STATUSES }).notNull().default("pending"),
    priority: text("priority", { enum: PRIORITIES }).notNull().default("medium"),
    dueAt: at("due_at"),
    dueDateOnly: boolean("due_date_only").notNull().default(false),
    dueTz: text("due_tz"),
    duePhrase: text("due_phrase"),
    recurrence: text("recurrence"),
    labels: text("labels").array().notNull().default(sql`'{}'::text[]`),
    sourceUrl: text("source_url"),
    sourceTitle: text("source_title"),
    sourceExcerpt: text("source_excerpt"),
    idempotencyKey: text("idempotency_key"),
    /** Fingerprint of the request that used `idempotency_key`: the same key with another request is refused. */
    idempotencyHash: text("idempotency_hash"),
    position: doublePrecision("position").notNull(),
    createdAt: at("created_at").notNull().defaultNow(),
    updatedAt: at("updated_at").notNull().defaultNow(),
    completedAt: at("completed_at"),
    deletedAt: at("deleted_at"),
  },
  (t) => [
    check("tasks_status_check", sql`${t.status} in ('pending', 'completed')`),
    check("tasks_priority_check", sql`${t.priority} in ('low', 'medium', 'high')`),
    uniqueIndex("tasks_user_idempotency_key_uidx").on(t.userId, t.idempotencyKey),
    // Keyset pagination per status, undeleted tasks only: (user, status, due sort key, position, id).
    index("tasks_user_status_due_idx")
      .on(t.userId, t.status, dueSortKey, t.position, t.id)
      .where(sql`deleted_at is null`),
    // "all" statuses and the trash.
    index("tasks_user_due_idx").on(t.userId, dueSortKey, t.position, t.id).where(sql`deleted_at is null`),
    // Completed tasks list newest first.
    index("tasks_user_completed_idx")
      .on(t.userId, t.completedAt.desc(), t.id.desc())
      .where(sql`deleted_at is null and status = 'completed'`),
    // Substring search (`query`) on title and notes: trigram GIN, with user_id in it (btree_gin) so one index
    // scan finds one user's matches. Both extensions ship with Postgres' contrib and with PGlite.
    index("tasks_user_search_idx")
      .using("gin", t.userId, t.title.op("gin_trgm_ops"), t.notes.op("gin_trgm_ops"))
      .where(sql`deleted_at is null`),
    index("tasks_user_deleted_idx")
      .on(t.userId, t.deletedAt.desc(), t.id.desc())
      .where(sql`deleted_at is not null`),
  ],
);

/**
 * Per-user change log, written in the same transaction as each task write. A trigger NOTIFYs
 * `task_changes` with ids only; readers fetch rows with seq greater than the last one they saw.
 */
export const taskChanges = pgTable(
  "task_changes",
  {
    seq: bigserial("seq", { mode: "number" }).primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    taskId: uuid("task_id").notNull(),
    op: text("op", { enum: CHANGE_OPS }).notNull(),
    task: jsonb("task").notNull(),
    at: at("at").notNull().defaultNow(),
  },
  (t) => [index("task_changes_user_seq_idx").on(t.userId, t.seq)],
);

export type TaskRow = typeof tasks.$inferSelect;
