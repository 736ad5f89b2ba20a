import { createHash, randomUUID } from "node:crypto";
import { getTableColumns, Placeholder, type Query, type SQL, sql } from "drizzle-orm";
import { PgDialect, type PgPreparedQuery, type PreparedQueryConfig } from "drizzle-orm/pg-core";
import { PostgresJsSession } from "drizzle-orm/postgres-js";
import type postgres from "postgres";
import type { Db } from "../db/connect.ts";
import { type ChangeOp, dueSortKey, type Priority, type TaskRow, tasks } from "../db/task-schema.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import { type Due, dayBounds, extractDueFromTitle, parseDue, parseNewDue } from "./due.ts";
import { IdempotencyConflictError, InvalidTaskInputError, TaskError, TaskNotFoundError } from "./errors.ts";
import { nextOccurrence } from "./recurrence.ts";
import { toTaskView } from "./view.ts";

export type TaskSource = { url?: string | null; title?: string | null; excerpt?: string | null };

export type NewTask = {
  /** Stored as given (trimmed), unless `extractDue` asks to take a date phrase out of it. */
  title: string;
  notes?: string;
  /** Natural language or ISO, today or later. */
  due?: string | null;
  /** Take a due phrase out of the title (quick-add); the result says what was taken. Not with `due`. */
  extractDue?: boolean;
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
/** What `extractDue` took out of a title, so it can be shown and undone. */
export type Extracted = { phrase: string; titleBefore: string };
export type Clock = () => Date;

/** The fewest leading hex digits of an id that tools accept in its place (what their texts print). */
export const SHORT_ID_LENGTH = 8;

/**
 * The uuid range a task id or id prefix stands for: a full id is a range of one. Lists print ids as their first
 * 8 hex digits (a full uuid costs a model ~20 tokens); every lookup by range is still filtered by the user.
 */
function idRange(ref: string): { low: string; high: string } {
  const hex = ref.trim().toLowerCase().replaceAll("-", "");
  if (!new RegExp(`^[0-9a-f]{${SHORT_ID_LENGTH},32}$`).test(hex)) throw new TaskNotFoundError(ref);
  const uuid = (h: string) =>
    `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  return { low: uuid(hex.padEnd(32, "0")), high: uuid(hex.padEnd(32, "f")) };
}

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
  /**
   * Changes one of the user's tasks and logs the change, atomically. `applies` says when the change applies (e.g.
   * only pending tasks complete); otherwise it is a no-op and nothing is written.
   *
   * Optimistic first, in two round trips and without holding a lock between them: read the task, then one
   * statement writes it and its change-log row only if it is still the version read (`xmin`). If a concurrent
   * write got in between, the change is worked out again on the newer version, this time in a transaction that
   * holds the task's row lock, so it cannot lose again.
   */
  async function write(
    id: string,
    op: ChangeOp,
    applies: (row: TaskRow) => boolean,
    set: (row: TaskRow) => Partial<TaskRow>,
  ): Promise<{ task: TaskRow; changed: boolean }> {
    const range = idRange(id);
    const attempt = async (on: Db, lock: boolean) => {
      const found = oneTask(
        id,
        await run(on, lock ? TASK_VERSION_FOR_UPDATE : TASK_VERSION, { user: owner.id, ...range }),
      );
      const current = fromDriverRow(found);
      if (!applies(current)) return { task: current, changed: false };
      const row: TaskRow = { ...current, ...set(current), updatedAt: clock() };
      const values = driverValues(row);
      Object.assign(values, {
        user: owner.id,
        version: found.at(-1),
        op,
        snapshot: JSON.stringify(toTaskView(row, owner.tz)),
      });
      return (await run(on, UPDATE_TASK, values)).length ? { task: row, changed: true } : undefined;
    };
    const result = (await attempt(db, false)) ?? (await db.transaction((tx) => attempt(tx, true)));
    if (!result) throw new Error(`task ${id} changed while its row lock was held`);
    return result;
  }

  /** The task an earlier request with this idempotency key made, refused if that request was a different one. */
  async function replayOf(key: string, hash: string | null) {
    const [existing] = (await run(db, TASK_BY_IDEMPOTENCY_KEY, { user: owner.id, key })).map(fromDriverRow);
    if (!existing) return null;
    // Tasks stored before requests were fingerprinted have no hash: they replay, as they did then.
    if (existing.idempotencyHash !== null && existing.idempotencyHash !== hash) {
      throw new IdempotencyConflictError();
    }
    return { task: existing, created: false, extracted: null };
  }

  return {
    owner,
    clock,

    async add(input: NewTask): Promise<{ task: TaskRow; created: boolean; extracted: Extracted | null }> {
      const now = clock();
      const key = input.idempotencyKey;
      const hash = key === undefined ? null : requestHash(input);
      let row: TaskRow;
      let extracted: Extracted | null;
      try {
        ({ row, extracted } = newTask(input, owner, now));
      } catch (err) {
        // A retry of a request that was fine when first sent (its "today" is yesterday by now) gets its task.
        const replay = err instanceof TaskError && key !== undefined ? await replayOf(key, hash) : null;
        if (replay) return replay;
        throw err;
      }
      row.idempotencyHash = hash;
      // One statement, so one round trip and atomic without BEGIN/COMMIT: the task and its change-log row
      // (whose snapshot is built here from the very values inserted) commit together or not at all. Every
      // column is given, so the stored row is exactly `row`.
      const values = driverValues(row);
      values.snapshot = JSON.stringify(toTaskView(row, owner.tz));
      const [[added] = []] = await run(db, ADD_TASK, values);
      if (added != null) return { task: row, created: true, extracted };
      // The key was used before (a retry, possibly a concurrent one, which the insert waited for): answer
      // with the task it made, if it was made by this same request.
      const replay = await replayOf(key!, hash);
      if (!replay) throw new Error("idempotency conflict without an existing task");
      return replay;
    },

    /** One of the user's tasks by id or unambiguous id prefix. */
    async get(id: string): Promise<TaskRow> {
      return fromDriverRow(oneTask(id, await run(db, TASK_VERSION, { user: owner.id, ...idRange(id) })));
    },

    async list(filter: ListFilter = {}): Promise<{ tasks: TaskRow[]; nextCursor: string | null }> {
      const status = filter.status ?? "pending";
      const limit = filter.limit ?? 50;
      const due = filter.due ?? "any";
      const query = filter.query?.trim() ?? "";
      const order = listOrder(status);
      const cursor = filter.cursor ? decodeCursor(filter.cursor, order.kind) : undefined;
      const values: Record<string, unknown> = { user: owner.id, limit: limit + 1 };
      if (due !== "any" && due !== "none") {
        const now = clock();
        const { todayStart, tomorrowStart } = dayBounds(now, owner.tz);
        Object.assign(values, {
          now: now.toISOString(),
          today: todayStart.toISOString(),
          tomorrow: tomorrowStart.toISOString(),
        });
      }
      if (query) values.pattern = `%${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      cursor?.forEach((part, i) => {
        values[`after${i}`] = part;
      });
      const statement = listStatement(status, due, query !== "", cursor !== undefined);
      const rows = (await run(db, statement, values)).map(fromDriverRow);
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
      const result = await write(
        id,
        "completed",
        (row) => row.status === "pending" && !row.deletedAt,
        (row) => {
          const next =
            row.recurrence && row.dueAt
              ? nextOccurrence(row.recurrence, row.dueAt > now ? row.dueAt : now)
              : null;
          return next ? { dueAt: next } : { status: "completed", completedAt: now };
        },
      );
      // A repeating task that moved on stays pending, due at its next occurrence.
      const nextDue = result.changed && result.task.status === "pending" ? result.task.dueAt : null;
      return { ...result, nextDue };
    },

    async reopen(id: string) {
      return write(
        id,
        "reopened",
        (row) => row.status === "completed" && !row.deletedAt,
        () => ({ status: "pending", completedAt: null }),
      );
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
      return write(
        id,
        "updated",
        (row) => !row.deletedAt,
        (row) => {
          if (patch.due === undefined) return values;
          // Rescheduling a recurring task moves this occurrence and keeps the rule, unless a new rule is given.
          const keepRule = due && !due.recurrence && row.recurrence;
          return { ...values, ...dueColumns(due), ...(keepRule ? { recurrence: row.recurrence } : {}) };
        },
      );
    },

    async delete(id: string) {
      return write(
        id,
        "deleted",
        (row) => !row.deletedAt,
        () => ({ deletedAt: clock() }),
      );
    },

    async restore(id: string) {
      return write(
        id,
        "restored",
        (row) => row.deletedAt !== null,
        () => ({ deletedAt: null }),
      );
    },
  };
}

/** The row a new task would be, and what `extractDue` took from its title. Throws TaskError on bad input. */
function newTask(input: NewTask, owner: TaskOwner, now: Date): { row: TaskRow; extracted: Extracted | null } {
  const typed = input.title.trim();
  let title = typed;
  let due: Due | null = null;
  let extracted: Extracted | null = null;
  const hasDue = input.due != null && input.due.trim() !== "";
  if (hasDue && input.extractDue) {
    throw new InvalidTaskInputError(
      "Pass either due or extract_due, not both: extract_due takes the due from the title.",
    );
  }
  if (hasDue) {
    due = parseNewDue(input.due!, { now, tz: owner.tz });
  } else if (input.extractDue) {
    const found = extractDueFromTitle(typed, { now, tz: owner.tz });
    if (found) {
      ({ title, due } = found);
      extracted = { phrase: found.due.phrase, titleBefore: typed };
    }
  }
  if (!title) throw new InvalidTaskInputError("The title is empty. Give the task a short title.");
  const row: TaskRow = {
    id: randomUUID(),
    userId: owner.id,
    title,
    notes: input.notes?.trim() ?? "",
    status: "pending",
    priority: input.priority ?? "medium",
    labels: normaliseLabels(input.labels),
    ...dueColumns(due),
    ...sourceColumns(input.source),
    idempotencyKey: input.idempotencyKey ?? null,
    idempotencyHash: null,
    position: now.getTime(),
    createdAt: now,
    updatedAt: now,
    completedAt: null,
    deletedAt: null,
  };
  return { row, extracted };
}

/**
 * Fingerprint of an add request as sent (not as resolved: "tomorrow" retried the next day is the same request),
 * so a reused idempotency key can tell a retry from a different request.
 */
function requestHash(input: NewTask): string {
  const { title, notes, due, extractDue, priority, labels, source } = input;
  const request = [
    title,
    notes,
    due,
    extractDue,
    priority,
    labels,
    source && [source.url, source.title, source.excerpt],
  ];
  return createHash("sha256").update(JSON.stringify(request)).digest("base64url");
}

/** The one row an id or prefix found, or why not. */
function oneTask(ref: string, rows: unknown[][]): unknown[] {
  const [first, second] = rows;
  if (!first) throw new TaskNotFoundError(ref);
  if (second) {
    throw new InvalidTaskInputError(
      `More than one task id starts with "${ref}". Pass more of the id, or the full id from list_tasks.`,
    );
  }
  return first;
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

/**
 * The list query for one combination of filters, built once: the filters' values are placeholders, so each
 * combination is one prepared statement. Status and order are literals, so the partial indexes' predicates
 * (`deleted_at is null`, `status = 'completed'`) match even in a generic plan and Postgres walks an index in
 * order instead of sorting.
 */
const listStatements = new Map<string, Statement>();
const LIST_STATUSES: readonly string[] = ["all", "pending", "completed", "deleted"];
const LIST_DUES: readonly string[] = ["overdue", "today", "upcoming", "none", "any"];
export function listStatement(
  status: NonNullable<ListFilter["status"]>,
  due: NonNullable<ListFilter["due"]>,
  hasQuery: boolean,
  hasCursor: boolean,
): Statement {
  // Unknown values filter nothing (as "all" / "any" do); they must not each make a statement.
  if (!LIST_STATUSES.includes(status)) status = "all";
  if (!LIST_DUES.includes(due)) due = "any";
  const name = `margin_list_${status}_${due}${hasQuery ? "_q" : ""}${hasCursor ? "_c" : ""}`;
  let statement = listStatements.get(name);
  if (!statement) {
    const order = listOrder(status);
    const conditions: SQL[] = [
      sql`user_id = ${p("user")}`,
      status === "deleted" ? sql`deleted_at is not null` : sql`deleted_at is null`,
    ];
    if (status === "pending" || status === "completed") conditions.push(sql.raw(`status = '${status}'`));
    const dueFilter = dueCondition(due);
    if (dueFilter) conditions.push(dueFilter);
    if (hasQuery) conditions.push(sql`(title ilike ${p("pattern")} or notes ilike ${p("pattern")})`);
    if (hasCursor) conditions.push(order.after);
    statement = prepared(
      name,
      sql`select ${TASK_COLUMNS} from tasks where ${sql.join(conditions, sql` and `)}
        order by ${order.by} limit ${p("limit")}`,
    );
    listStatements.set(name, statement);
  }
  return statement;
}

function dueCondition(due: NonNullable<ListFilter["due"]>): SQL | undefined {
  switch (due) {
    case "any":
      return undefined;
    case "none":
      return sql`due_at is null`;
    case "today":
      return sql`due_at >= ${p("today")}::timestamptz and due_at < ${p("tomorrow")}::timestamptz`;
    case "upcoming":
      return sql`due_at >= ${p("tomorrow")}::timestamptz`;
    case "overdue":
      // A date-only task is overdue once its day has passed; a timed one once its time has.
      return sql`status = 'pending' and ((due_date_only = false and due_at < ${p("now")}::timestamptz)
        or (due_date_only = true and due_at < ${p("today")}::timestamptz))`;
  }
}

/** Sort order and keyset condition per list: by due date (undated last), or newest completed / deleted first. */
function listOrder(status: NonNullable<ListFilter["status"]>) {
  if (status === "completed" || status === "deleted") {
    const column = sql.raw(status === "completed" ? "completed_at" : "deleted_at");
    return {
      kind: status,
      // NULLS LAST matches the partial indexes, so Postgres walks them instead of sorting.
      by: sql`${column} desc nulls last, id desc nulls last`,
      key: (row: TaskRow) => [
        (status === "completed" ? row.completedAt : row.deletedAt)!.toISOString(),
        row.id,
      ],
      after: sql`(${column}, id) < (${p("after0")}::timestamptz, ${p("after1")}::uuid)`,
    };
  }
  return {
    kind: "due" as const,
    // The same expression as the indexes' (dueSortKey), so Postgres walks them instead of sorting.
    by: sql`${dueSortKey} asc, position asc, id asc`,
    key: (row: TaskRow) => [row.dueAt?.toISOString() ?? "infinity", row.position, row.id],
    after: sql`(${dueSortKey}, position, id) > (${p("after0")}::timestamptz, ${p("after1")}::float8, ${p("after2")}::uuid)`,
  };
}

// The hot statements are plain SQL run as prepared statements: with drizzle's query builder, building each
// statement and mapping its rows cost as much as running it, and postgres.js re-parsed and re-planned every
// query (drizzle prepares only named queries). Rows are mapped with drizzle's own column mappings, so they come
// out exactly as its query builder would return them (Dates, arrays), on postgres.js and PGlite alike.
const TASK_FIELDS = Object.entries(getTableColumns(tasks));
const TASK_COLUMNS = sql.raw(TASK_FIELDS.map(([, column]) => `"${column.name}"`).join(", "));
const p = (name: string) => sql.placeholder(name);
const dialect = new PgDialect();

type Statement = { name: string; query: Query };
const prepared = (name: string, text: SQL): Statement => ({ name, query: dialect.sqlToQuery(text) });

/**
 * A new task and its change-log row in one call of `margin_add_task` (drizzle/0012_add_task_function.sql): one
 * round trip, atomic without BEGIN/COMMIT (the change-log triggers run inside it), and run with cached plans.
 * Every column is given, by name, so the stored row is exactly the one whose snapshot goes into the log. Answers
 * the task's id, or null when the idempotency key was used before (nothing is inserted then).
 */
const ADD_TASK = prepared(
  "margin_add_task",
  sql`select margin_add_task(${sql.join(
    TASK_FIELDS.map(([key, column]) => sql`${sql.raw(`"${column.name}"`)} => ${p(key)}`),
    sql`, `,
  )}, snapshot => ${p("snapshot")}::jsonb)`,
);

/**
 * A task with its row version (`xmin`, last column), which UPDATE_TASK checks, by id range (a full id or a
 * prefix, see idRange); a second row means the prefix is ambiguous.
 */
const selectTaskVersion = sql`select ${TASK_COLUMNS}, xmin::text from tasks
  where user_id = ${p("user")} and id between ${p("low")}::uuid and ${p("high")}::uuid
  order by id limit 2`;
const TASK_VERSION = prepared("margin_task_version", selectTaskVersion);
const TASK_VERSION_FOR_UPDATE = prepared(
  "margin_task_version_for_update",
  sql`${selectTaskVersion} for update`,
);

// A write rewrites every mutable column; the rest never change after insert.
const IMMUTABLE: readonly string[] = [
  "id",
  "userId",
  "idempotencyKey",
  "idempotencyHash",
  "position",
  "createdAt",
];

/**
 * A changed task and its change-log row in one statement, applied only if the task is still the version that
 * was read (`xmin` changes with every write), so the snapshot logged is exactly the row stored.
 */
const UPDATE_TASK = prepared(
  "margin_update_task",
  sql`with t as (
    update tasks set ${sql.join(
      TASK_FIELDS.filter(([key]) => !IMMUTABLE.includes(key)).map(
        ([key, column]) => sql`${sql.raw(`"${column.name}"`)} = ${p(key)}`,
      ),
      sql`, `,
    )}
    where user_id = ${p("user")} and id = ${p("id")} and xmin = ${p("version")}::xid
    returning id, user_id
  )
  insert into task_changes (user_id, task_id, op, task)
  select user_id, id, ${p("op")}, ${p("snapshot")}::jsonb from t
  returning task_id`,
);

const TASK_BY_IDEMPOTENCY_KEY = prepared(
  "margin_task_by_idempotency_key",
  sql`select ${TASK_COLUMNS} from tasks where user_id = ${p("user")} and idempotency_key = ${p("key")}`,
);

const preparedByDb = new WeakMap<Db, Map<string, PgPreparedQuery<PreparedQueryConfig>>>();

/** Runs a statement, prepared once per database; rows come back as arrays of driver values. */
async function run(db: Db, statement: Statement, values: Record<string, unknown>): Promise<unknown[][]> {
  const client = postgresClient(db);
  if (client) {
    // Straight to postgres.js, as drizzle's prepared query would send it (named placeholders in order, prepared,
    // rows as arrays), without its promise layers and tracing spans: about 10 µs a statement.
    const params = statement.query.params.map((param) =>
      param instanceof Placeholder ? values[param.name] : param,
    );
    return (await client
      .unsafe(statement.query.sql, params as never[], { prepare: true })
      .values()) as unknown[][];
  }
  let mine = preparedByDb.get(db);
  if (!mine) {
    mine = new Map();
    preparedByDb.set(db, mine);
  }
  let query = mine.get(statement.name);
  if (!query) {
    // A name makes drizzle prepare it; the mapper asks for array rows.
    query = db._.session.prepareQuery(statement.query, undefined, statement.name, true, (rows) => rows);
    mine.set(statement.name, query);
  }
  return (await query.execute(values)) as unknown[][];
}

/** The postgres.js client a database (or transaction) runs its statements on; none on PGlite. */
const postgresClient = (db: Db): postgres.Sql | undefined =>
  db._.session instanceof PostgresJsSession
    ? (db._.session as unknown as { client: postgres.Sql }).client
    : undefined;

/** A row's columns as the driver takes them, keyed by field name (the statements' placeholder names). */
function driverValues(row: TaskRow): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [key, column] of TASK_FIELDS) {
    const value = row[key as keyof TaskRow];
    values[key] = value === null ? null : column.mapToDriverValue(value);
  }
  return values;
}

function fromDriverRow(values: unknown[]): TaskRow {
  const row: Record<string, unknown> = {};
  TASK_FIELDS.forEach(([key, column], i) => {
    const value = values[i];
    row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  });
  return row as TaskRow;
}
