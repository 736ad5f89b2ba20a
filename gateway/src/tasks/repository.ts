import { and, asc, eq, gte, ilike, isNotNull, isNull, lt, or, type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/connect.ts";
import {
  type ChangeOp,
  dueSortKey,
  type Priority,
  type TaskRow,
  taskChanges,
  tasks,
} from "../db/task-schema.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import { type Due, dayBounds, extractDueFromTitle, parseDue } from "./due.ts";
import { InvalidTaskInputError, TaskNotFoundError } from "./errors.ts";
import { nextOccurrence } from "./recurrence.ts";
import { toTaskView } from "./view.ts";

export type TaskSource = { url?: string | null; title?: string | null; excerpt?: string | null };

export type NewTask = {
  title: string;
  notes?: string;
  /** Natural language or ISO; when absent, a due phrase inside the title is used (and removed from it). */
  due?: string | null;
  priority?: Priority;
  labels?: string[];
  source?: TaskSource | null;
  /** Same key for the same user → the same task, never two. */
  idempotencyKey?: string;
};

export type TaskPatch = {
  title?: string;
  notes?: string;
  /** A new due phrase; null clears the due date and any recurrence. */
  due?: string | null;
  priority?: Priority;
  labels?: string[];
  source?: TaskSource | null;
};

export type ListFilter = {
  status?: "all" | "pending" | "completed" | "deleted";
  due?: "overdue" | "today" | "upcoming" | "none" | "any";
  query?: string;
  limit?: number;
  cursor?: string;
};

export type TaskOwner = { id: string; tz: string };
export type Clock = () => Date;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NOT_DELETED = isNull(tasks.deletedAt);

/**
 * The task store, reachable only through `forUser`: every query it runs is filtered by that user's id,
 * so no function here can read or write another user's rows.
 */
export function createTaskRepository(db: Db) {
  return {
    forUser(owner: TaskOwner, clock: Clock = () => new Date()) {
      return userTasks(db, owner, clock);
    },
  };
}

export type TaskRepository = ReturnType<typeof createTaskRepository>;
export type UserTasks = ReturnType<typeof userTasks>;

function userTasks(db: Db, owner: TaskOwner, clock: Clock) {
  const mine = eq(tasks.userId, owner.id);
  const byId = (id: string) => {
    if (!UUID.test(id)) throw new TaskNotFoundError(id);
    return and(mine, eq(tasks.id, id));
  };

  /** Updates one of the user's tasks and logs the change in the same transaction. */
  async function write(
    id: string,
    op: ChangeOp,
    where: SQL | undefined,
    set: (row: TaskRow) => Partial<TaskRow>,
  ) {
    // `where` says when the write applies (e.g. only pending tasks complete); otherwise it is a no-op.
    return db.transaction(async (tx) => {
      const [current] = await tx.select().from(tasks).where(byId(id)).for("update");
      if (!current) throw new TaskNotFoundError(id);
      const values = set(current);
      const [row] = await tx
        .update(tasks)
        .set({ ...values, updatedAt: clock() })
        .where(and(byId(id), where))
        .returning();
      if (!row) return { task: current, changed: false };
      await tx.insert(taskChanges).values({ userId: owner.id, taskId: row.id, op, task: toTaskView(row) });
      return { task: row, changed: true };
    });
  }

  return {
    owner,

    async add(input: NewTask): Promise<{ task: TaskRow; created: boolean }> {
      const now = clock();
      let title = input.title.trim();
      let due: Due | null = null;
      if (input.due != null && input.due.trim() !== "") {
        due = parseDue(input.due, { now, tz: owner.tz });
      } else if (input.due === undefined) {
        const found = extractDueFromTitle(title, { now, tz: owner.tz });
        if (found?.title) ({ title, due } = found);
      }
      if (!title) throw new InvalidTaskInputError("The title is empty. Give the task a short title.");
      return db.transaction(async (tx) => {
        const [row] = await tx
          .insert(tasks)
          .values({
            userId: owner.id,
            title,
            notes: input.notes?.trim() ?? "",
            priority: input.priority ?? "medium",
            labels: normaliseLabels(input.labels),
            ...dueColumns(due),
            ...sourceColumns(input.source),
            idempotencyKey: input.idempotencyKey ?? null,
            position: now.getTime(),
            createdAt: now,
            updatedAt: now,
          })
          .onConflictDoNothing({ target: [tasks.userId, tasks.idempotencyKey] })
          .returning();
        if (row) {
          await tx
            .insert(taskChanges)
            .values({ userId: owner.id, taskId: row.id, op: "created", task: toTaskView(row) });
          return { task: row, created: true };
        }
        // The key was used before (a retry, possibly a concurrent one): answer with the task it made.
        const [existing] = await tx
          .select()
          .from(tasks)
          .where(and(mine, eq(tasks.idempotencyKey, input.idempotencyKey!)));
        if (!existing) throw new Error("idempotency conflict without an existing task");
        return { task: existing, created: false };
      });
    },

    async get(id: string): Promise<TaskRow> {
      const [row] = await db.select().from(tasks).where(byId(id));
      if (!row) throw new TaskNotFoundError(id);
      return row;
    },

    async list(filter: ListFilter = {}): Promise<{ tasks: TaskRow[]; nextCursor: string | null }> {
      const status = filter.status ?? "pending";
      const limit = filter.limit ?? 50;
      const now = clock();
      const conditions: (SQL | undefined)[] = [mine];
      const order = listOrder(status);
      if (status === "deleted") conditions.push(isNotNull(tasks.deletedAt));
      else conditions.push(NOT_DELETED);
      if (status === "pending" || status === "completed") conditions.push(eq(tasks.status, status));
      conditions.push(dueCondition(filter.due ?? "any", now, owner.tz));
      if (filter.query?.trim()) {
        const pattern = `%${filter.query.trim().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        conditions.push(or(ilike(tasks.title, pattern), ilike(tasks.notes, pattern)));
      }
      if (filter.cursor) conditions.push(order.after(decodeCursor(filter.cursor, order.kind)));
      const rows = await db
        .select()
        .from(tasks)
        .where(and(...conditions))
        .orderBy(...order.by)
        .limit(limit + 1);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        tasks: page,
        nextCursor: rows.length > limit && last ? encodeCursor(order.kind, order.key(last)) : null,
      };
    },

    /** Marks a task done; a recurring task instead moves to its next occurrence and stays pending. */
    async complete(id: string): Promise<{ task: TaskRow; changed: boolean; nextDue: Date | null }> {
      const now = clock();
      let nextDue: Date | null = null;
      const result = await write(id, "completed", and(eq(tasks.status, "pending"), NOT_DELETED), (row) => {
        if (row.recurrence && row.dueAt) {
          nextDue = nextOccurrence(row.recurrence, row.dueAt > now ? row.dueAt : now);
          if (nextDue) return { dueAt: nextDue };
        }
        return { status: "completed", completedAt: now };
      });
      return { ...result, nextDue };
    },

    async reopen(id: string) {
      return write(id, "reopened", and(eq(tasks.status, "completed"), NOT_DELETED), () => ({
        status: "pending",
        completedAt: null,
      }));
    },

    async update(id: string, patch: TaskPatch) {
      const values: Partial<TaskRow> = {};
      if (patch.title !== undefined) {
        values.title = patch.title.trim();
        if (!values.title)
          throw new InvalidTaskInputError("The title is empty. Give the task a short title.");
      }
      if (patch.notes !== undefined) values.notes = patch.notes.trim();
      if (patch.priority !== undefined) values.priority = patch.priority;
      if (patch.labels !== undefined) values.labels = normaliseLabels(patch.labels);
      if (patch.source !== undefined) Object.assign(values, sourceColumns(patch.source));
      const due = patch.due ? parseDue(patch.due, { now: clock(), tz: owner.tz }) : null;
      if (Object.keys(values).length === 0 && patch.due === undefined) {
        throw new InvalidTaskInputError(
          "Nothing to change. Pass at least one of title, notes, due, priority, labels.",
        );
      }
      return write(id, "updated", NOT_DELETED, (row) => {
        if (patch.due === undefined) return values;
        // Rescheduling a recurring task moves this occurrence and keeps the rule, unless a new rule is given.
        const keepRule = due && !due.recurrence && row.recurrence;
        return { ...values, ...dueColumns(due), ...(keepRule ? { recurrence: row.recurrence } : {}) };
      });
    },

    async delete(id: string) {
      return write(id, "deleted", NOT_DELETED, () => ({ deletedAt: clock() }));
    },

    async restore(id: string) {
      return write(id, "restored", isNotNull(tasks.deletedAt), () => ({ deletedAt: null }));
    },
  };
}

function dueColumns(due: Due | null) {
  return {
    dueAt: due?.at ?? null,
    dueDateOnly: due?.dateOnly ?? false,
    dueTz: due?.tz ?? null,
    duePhrase: due?.phrase ?? null,
    recurrence: due?.recurrence ?? null,
  };
}

function sourceColumns(source: TaskSource | null | undefined) {
  return {
    sourceUrl: source?.url ?? null,
    sourceTitle: source?.title ?? null,
    sourceExcerpt: source?.excerpt ?? null,
  };
}

function normaliseLabels(labels: string[] | undefined): string[] {
  return [...new Set((labels ?? []).map((l) => l.trim().replace(/^[#@]/, "").toLowerCase()).filter(Boolean))];
}

function dueCondition(due: NonNullable<ListFilter["due"]>, now: Date, tz: string): SQL | undefined {
  const { todayStart, tomorrowStart } = dayBounds(now, tz);
  switch (due) {
    case "any":
      return undefined;
    case "none":
      return isNull(tasks.dueAt);
    case "today":
      return and(gte(tasks.dueAt, todayStart), lt(tasks.dueAt, tomorrowStart));
    case "upcoming":
      return gte(tasks.dueAt, tomorrowStart);
    case "overdue":
      // A date-only task is overdue once its day has passed; a timed one once its time has.
      return and(
        eq(tasks.status, "pending"),
        or(
          and(eq(tasks.dueDateOnly, false), lt(tasks.dueAt, now)),
          and(eq(tasks.dueDateOnly, true), lt(tasks.dueAt, todayStart)),
        ),
      );
  }
}

/** Sort order and keyset condition per list: by due date (undated last), or newest completed / deleted first. */
function listOrder(status: NonNullable<ListFilter["status"]>) {
  if (status === "completed" || status === "deleted") {
    const column = status === "completed" ? tasks.completedAt : tasks.deletedAt;
    return {
      kind: status,
      // NULLS LAST matches the partial indexes, so Postgres walks them instead of sorting.
      by: [sql`${column} desc nulls last`, sql`${tasks.id} desc nulls last`],
      key: (row: TaskRow) => [
        (status === "completed" ? row.completedAt : row.deletedAt)!.toISOString(),
        row.id,
      ],
      after: ([at, id]: (string | number)[]) =>
        sql`(${column}, ${tasks.id}) < (${at}::timestamptz, ${id}::uuid)`,
    };
  }
  return {
    kind: "due" as const,
    by: [asc(dueSortKey), asc(tasks.position), asc(tasks.id)],
    key: (row: TaskRow) => [row.dueAt?.toISOString() ?? "infinity", row.position, row.id],
    after: ([at, position, id]: (string | number)[]) =>
      sql`(${dueSortKey}, ${tasks.position}, ${tasks.id}) > (${at}::timestamptz, ${position}::float8, ${id}::uuid)`,
  };
}
