import type { TaskRow } from "../db/task-schema.ts";
import { localParts } from "./due.ts";
import { memoize } from "./memo.ts";
import { describeRecurrence } from "./recurrence.ts";

/** The public shape of a task: what tools return, REST answers and change events carry. */
export type TaskView = {
  id: string;
  title: string;
  notes: string;
  /** "deleted" while the task is in the trash, whatever it was before (restore brings that back). */
  status: "pending" | "completed" | "deleted";
  priority: "low" | "medium" | "high";
  due: {
    at: string;
    /** Local calendar date and time in `tz` (time is null for date-only dues). */
    date: string;
    time: string | null;
    date_only: boolean;
    /** The zone `date` and `time` are shown in: the user's current zone. */
    tz: string;
    phrase: string | null;
    repeat: string | null;
    rrule: string | null;
  } | null;
  labels: string[];
  source: { url: string | null; title: string | null; excerpt: string | null } | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
  deleted_at: string | null;
};

/**
 * A task as `tz` (the user's current zone) sees it: a timed due shows its local date and time there, so a list
 * never mixes zones after the user moves. A date-only due keeps its calendar date, which is what it means.
 */
export function toTaskView(row: TaskRow, tz: string): TaskView {
  return {
    id: row.id,
    title: row.title,
    notes: row.notes,
    status: row.deletedAt ? "deleted" : row.status,
    priority: row.priority,
    due: row.dueAt ? dueView(row, row.dueAt, tz) : null,
    labels: row.labels,
    source:
      row.sourceUrl || row.sourceTitle || row.sourceExcerpt
        ? { url: row.sourceUrl, title: row.sourceTitle, excerpt: row.sourceExcerpt }
        : null,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    completed_at: row.completedAt?.toISOString() ?? null,
    deleted_at: row.deletedAt?.toISOString() ?? null,
  };
}

// Lists render the same tasks on every refresh, and the zone and rule conversions are most of a dated task's
// view (about 7 of 10 µs for a repeating one). Both are pure, so each distinct input is converted once.
const localPartsAt = memoize((key) => {
  const [tz, ms] = key.split(" ") as [string, string];
  return localParts({ at: new Date(Number(ms)), tz });
});
const describeRule = memoize(describeRecurrence);

function dueView(row: TaskRow, at: Date, tz: string): NonNullable<TaskView["due"]> {
  // A date-only due is midnight of its date in the zone it was set in; that zone gives the date back.
  const local = localPartsAt(`${row.dueDateOnly ? (row.dueTz ?? tz) : tz} ${at.getTime()}`);
  return {
    at: at.toISOString(),
    date: local.date,
    time: row.dueDateOnly ? null : local.time,
    date_only: row.dueDateOnly,
    tz,
    phrase: row.duePhrase,
    repeat: row.recurrence ? describeRule(row.recurrence) : null,
    rrule: row.recurrence,
  };
}
