import { createHash } from "node:crypto";
import type { Priority } from "../db/task-schema.ts";
import type { TaskView } from "../tasks/view.ts";
import { csvLine, parseCsv, TODOIST_COLUMNS, unguard } from "./csv.ts";
import { AccountActionError } from "./errors.ts";
import type { ImportEntry } from "./import.ts";

// Todoist's CSV PRIORITY is the p-number its app shows: 1 = p1 (highest, "urgent"), 4 = p4 (none, the
// default). Its REST API counts the other way (4 = p1); this is the CSV. Margin's default, medium, is
// Todoist's default, p4; Todoist has nothing below it, so low goes there too.
const TO_TODOIST: Record<Priority, string> = { high: "1", medium: "4", low: "4" };
const FROM_TODOIST: Record<string, Priority> = { "1": "high", "2": "high", "3": "medium", "4": "medium" };

/**
 * The user's open tasks as a Todoist import file. Only pending tasks: Todoist imports every row as an open task,
 * so done and deleted ones would come back to life there (the JSON export keeps them). Labels travel in the
 * content as `@label`, which Todoist's import reads; the source page goes into the description.
 */
export function toTodoistCsv(tasks: TaskView[], timezone: string): string {
  let out = csvLine(TODOIST_COLUMNS);
  for (const task of tasks) {
    if (task.status !== "pending") continue;
    const labels = task.labels.map((l) => ` @${l.replace(/\s+/g, "_")}`).join("");
    const source = task.source && [task.source.title, task.source.url].filter(Boolean).join(" — ");
    const description = [task.notes, source ? `Source: ${source}` : ""].filter(Boolean).join("\n\n");
    const date = task.due
      ? task.due.rrule
        ? (task.due.phrase ?? task.due.repeat ?? task.due.date)
        : task.due.time
          ? `${task.due.date} ${task.due.time}`
          : task.due.date
      : "";
    const row: Record<(typeof TODOIST_COLUMNS)[number], string> = {
      TYPE: "task",
      CONTENT: task.title + labels,
      DESCRIPTION: description,
      PRIORITY: TO_TODOIST[task.priority],
      INDENT: "1",
      AUTHOR: "",
      RESPONSIBLE: "",
      DATE: date,
      DATE_LANG: date ? "en" : "",
      TIMEZONE: date ? timezone : "",
      DURATION: "",
      DURATION_UNIT: "",
      DEADLINE: "",
      DEADLINE_LANG: "",
    };
    out += csvLine(TODOIST_COLUMNS.map((c) => row[c]));
  }
  return out;
}

const LABEL = /(^|\s)@([\p{L}\p{N}_-]+)/gu;

/**
 * Tasks of a Todoist CSV export (or any file in its import format): `task` rows become tasks, `note` rows (the
 * comments under the task above) join its notes, sections are dropped; sub-tasks come in flat. Each task's
 * idempotency key is a fingerprint of its row (and how often the same row came before), so importing the same
 * file again finds the tasks it made.
 */
export function fromTodoistCsv(text: string, maxTasks: number): ImportEntry[] {
  const rows = parseCsv(text);
  if (!rows) throw invalid("The CSV file is cut off: a quoted field never ends.");
  const header = (rows[0] ?? []).map((h) => h.trim().toUpperCase());
  const col = (name: string) => header.indexOf(name);
  if (col("TYPE") < 0 || col("CONTENT") < 0) {
    throw invalid("This is not a Todoist CSV export: its first line must name the columns TYPE and CONTENT.");
  }
  const cell = (row: string[], name: string) => {
    const i = col(name);
    return i < 0 ? "" : unguard((row[i] ?? "").trim());
  };
  const entries: ImportEntry[] = [];
  const seen = new Map<string, number>();
  for (const row of rows.slice(1)) {
    const type = cell(row, "TYPE").toLowerCase();
    const content = cell(row, "CONTENT");
    if (type === "note" && content) {
      const last = entries.at(-1);
      if (last) last.notes = [last.notes, content].filter(Boolean).join("\n\n");
      continue;
    }
    if (type !== "task" || !content) continue;
    if (entries.length === maxTasks) {
      throw invalid(`The file has more than ${maxTasks} tasks; split it and import the parts one by one.`);
    }
    const labels = [...content.matchAll(LABEL)].map((m) => m[2] ?? "");
    const title = content.replace(LABEL, "$1").replace(/\s+/g, " ").trim() || content;
    const extras = [
      cell(row, "DEADLINE") && `Deadline: ${cell(row, "DEADLINE")}`,
      cell(row, "DURATION") && `Duration: ${cell(row, "DURATION")} ${cell(row, "DURATION_UNIT")}`.trim(),
    ].filter(Boolean);
    const notes = [cell(row, "DESCRIPTION"), ...extras].filter(Boolean).join("\n\n");
    const due = cell(row, "DATE") || undefined;
    const priority = FROM_TODOIST[cell(row, "PRIORITY")] ?? "medium";
    const fingerprint = createHash("sha256")
      .update(JSON.stringify([title, labels, notes, due, priority]))
      .digest("base64url")
      .slice(0, 32);
    const n = (seen.get(fingerprint) ?? 0) + 1;
    seen.set(fingerprint, n);
    entries.push({
      key: `import:todoist:${fingerprint}:${n}`,
      title,
      notes,
      due,
      dueText: due,
      priority,
      labels,
      state: "pending",
    });
  }
  return entries;
}

const invalid = (message: string) => new AccountActionError(400, "invalid_import", message);
