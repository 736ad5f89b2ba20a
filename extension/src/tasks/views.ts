import type { Task } from "../api/schemas.ts";

export type TaskFilter = "today" | "upcoming" | "all" | "done";

// Building an Intl.DateTimeFormat costs far more than using one; a list of 500 tasks formats thousands of dates.
const formatters = new Map<string, Intl.DateTimeFormat>();
export function cachedFormat(
  locale: string | undefined,
  opts: Intl.DateTimeFormatOptions,
): Intl.DateTimeFormat {
  const key = `${locale ?? ""}|${JSON.stringify(opts)}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, opts);
    formatters.set(key, f);
  }
  return f;
}

// Rows ask for the same days again and again (today, tomorrow, each due on every render): remember them.
const recentDays = new Map<string, string>();

/** The calendar date (YYYY-MM-DD) of an instant in a zone. */
export function localDate(at: Date, tz: string): string {
  const key = `${at.getTime()} ${tz}`;
  const known = recentDays.get(key);
  if (known !== undefined) return known;
  const day = formatDay(at, tz);
  if (recentDays.size > 4096) recentDays.clear();
  recentDays.set(key, day);
  return day;
}

function formatDay(at: Date, tz: string): string {
  // en-CA formats as YYYY-MM-DD.
  return cachedFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(
    at,
  );
}

/** The day a task is due on, in the user's zone (date-only dues keep their calendar date). */
export function dueDay(task: Task, tz: string): string | null {
  if (!task.due) return null;
  return task.due.date_only ? task.due.date : localDate(new Date(task.due.at), tz);
}

export function isOverdue(task: Task, now: Date, tz: string): boolean {
  if (task.status !== "pending" || !task.due) return false;
  if (task.due.date_only) return task.due.date < localDate(now, tz);
  return new Date(task.due.at).getTime() < now.getTime();
}

/** Due today or earlier and still open: what "Today" lists and the badge counts. */
export function isDueByToday(task: Task, now: Date, tz: string): boolean {
  const day = dueDay(task, tz);
  return task.status === "pending" && day !== null && day <= localDate(now, tz);
}

const byDue = (a: Task, b: Task) => {
  if (a.due && b.due) return a.due.at.localeCompare(b.due.at) || a.created_at.localeCompare(b.created_at);
  if (a.due) return -1;
  if (b.due) return 1;
  return b.created_at.localeCompare(a.created_at);
};
const byCompletedDesc = (a: Task, b: Task) => (b.completed_at ?? "").localeCompare(a.completed_at ?? "");

function matches(task: Task, query: string): boolean {
  if (!query) return true;
  const q = query.toLowerCase();
  return (
    task.title.toLowerCase().includes(q) ||
    task.notes.toLowerCase().includes(q) ||
    (task.source?.title ?? "").toLowerCase().includes(q) ||
    (task.source?.url ?? "").toLowerCase().includes(q)
  );
}

/** One tab of the tasks view, sorted as shown. */
export function selectTasks(
  tasks: Iterable<Task>,
  filter: TaskFilter,
  opts: { now: Date; tz: string; query?: string },
) {
  const today = localDate(opts.now, opts.tz);
  const out: Task[] = [];
  for (const t of tasks) {
    if (t.deleted_at || !matches(t, opts.query?.trim() ?? "")) continue;
    if (filter === "done") {
      if (t.status === "completed") out.push(t);
      continue;
    }
    if (t.status !== "pending") continue;
    const day = dueDay(t, opts.tz);
    if (filter === "all") out.push(t);
    else if (filter === "today" && day !== null && day <= today) out.push(t);
    else if (filter === "upcoming" && day !== null && day > today) out.push(t);
  }
  return out.sort(filter === "done" ? byCompletedDesc : byDue);
}

export function countDueByToday(tasks: Iterable<Task>, now: Date, tz: string): number {
  let n = 0;
  for (const t of tasks) if (!t.deleted_at && isDueByToday(t, now, tz)) n++;
  return n;
}

/**
 * Applies a task version unless the map already holds a newer one. Deleted tasks stay as tombstones
 * (views skip them), so an older copy arriving late cannot bring them back.
 */
export function applyTask(map: Map<string, Task>, task: Task): boolean {
  const current = map.get(task.id);
  if (current && current.updated_at > task.updated_at) return false;
  map.set(task.id, task);
  return true;
}
