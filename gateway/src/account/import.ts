import { z } from "zod";
import type { CurrentUser } from "../auth/current-user.ts";
import { PRIORITIES, type Priority } from "../db/task-schema.ts";
import type { ToolResult } from "../task-service/client.ts";
import { AccountActionError } from "./errors.ts";
import { EXPORT_FORMAT, EXPORT_VERSION, listEveryTask, type TaskCaller } from "./export.ts";

/** The most tasks one import takes; each is one add_task call (and one or two more for its state). */
export const MAX_IMPORT_TASKS = 5_000;
/**
 * The largest import body: above the gateway's 1 MiB cap for other routes, because an export carries the chat
 * threads too (which the import skips) and 5,000 tasks with notes and sources alone can pass 1 MiB. Only a
 * signed-in user's import is read, once the session and the write budget let it through.
 */
export const MAX_IMPORT_BYTES = 20 * 1024 * 1024;
/** The routes that take an import body (the API and the account page). */
export const IMPORT_PATHS = ["/api/import", "/account/import"];

/** The 413 of an import over MAX_IMPORT_BYTES: what the limit is, and what to do. */
export function importTooLarge(): AccountActionError {
  return new AccountActionError(
    413,
    "payload_too_large",
    `The file is larger than ${MAX_IMPORT_BYTES / 1024 / 1024} MiB, the most one import takes. ` +
      "Split its tasks into several files (each import adds only what is new).",
  );
}

/** One task to import, whatever file it came from. */
export type ImportEntry = {
  /** add_task's idempotency key: the same entry imported again finds the task it made. */
  key: string;
  /** The task's id in the account it was exported from: already in this account → nothing to add. */
  exportedId?: string;
  title: string;
  notes: string;
  /** What add_task's `due` gets; refused (past or not understood) → the task comes without it. */
  due?: string;
  /** The due as the file said it, kept in the notes when the task comes without it. */
  dueText?: string;
  priority: Priority;
  labels: string[];
  source?: { url?: string; title?: string; excerpt?: string };
  /** Completed and deleted tasks are added, then completed / moved to the trash. */
  state: "pending" | "completed" | "deleted" | "completed_then_deleted";
};

export type ImportReport = {
  format: "margin" | "todoist";
  tasks: number;
  created: number;
  /** Made by an earlier import of the same file, or (a Margin export of this account) still here: nothing new. */
  already_imported: number;
  /** Imported without a due date (it is in the past, or not understood); the notes say what it was. */
  without_due: number;
  failed: { index: number; title: string; message: string }[];
};

// The export's fields that matter here, with add_task's limits, so a bad file is a 400 naming the field
// before anything is written. Unknown fields (ids, dates, chat) are ignored.
const ExportedTask = z.object({
  id: z.string().min(1).max(100),
  title: z.string().trim().min(1).max(500),
  notes: z.string().max(10_000).default(""),
  status: z.enum(["pending", "completed", "deleted"]),
  priority: z.enum(PRIORITIES).default("medium"),
  due: z
    .object({
      at: z.string().max(100),
      date: z.string().max(100),
      date_only: z.boolean(),
      phrase: z.string().max(200).nullable().default(null),
      rrule: z.string().max(1000).nullable().default(null),
    })
    .nullable()
    .default(null),
  labels: z.array(z.string().trim().min(1).max(50)).max(20).default([]),
  source: z
    .object({
      url: z.string().max(2048).nullable().default(null),
      title: z.string().max(500).nullable().default(null),
      excerpt: z.string().max(4000).nullable().default(null),
    })
    .nullable()
    .default(null),
  completed_at: z.string().nullable().default(null),
});
export const MarginImportFile = z.object({
  format: z.literal(EXPORT_FORMAT, `format: expected "${EXPORT_FORMAT}" (a file from Margin's export)`),
  version: z.literal(EXPORT_VERSION, `version: this server reads export version ${EXPORT_VERSION}`),
  tasks: z.array(ExportedTask).max(MAX_IMPORT_TASKS, `tasks: at most ${MAX_IMPORT_TASKS} per import`),
});

const HTTP_URL = /^https?:\/\//i;

/** Margin export → entries. Ids become idempotency keys, so the same export imported twice adds nothing. */
export function fromMarginExport(file: z.infer<typeof MarginImportFile>): ImportEntry[] {
  return file.tasks.map((t) => {
    let due: string | undefined;
    if (t.due) {
      // A repeating task repeats from its phrase ("every monday at 9"), from now on. A done one must not:
      // completing a repeating task moves it to its next occurrence instead.
      const repeats = t.due.rrule && t.due.phrase && t.status !== "completed";
      due = repeats ? t.due.phrase! : t.due.date_only ? t.due.date : t.due.at;
    }
    const source = t.source && {
      ...(t.source.url && HTTP_URL.test(t.source.url) ? { url: t.source.url } : {}),
      ...(t.source.title ? { title: t.source.title } : {}),
      ...(t.source.excerpt ? { excerpt: t.source.excerpt } : {}),
    };
    return {
      key: `import:margin:${t.id}`,
      exportedId: t.id,
      title: t.title,
      notes: t.notes,
      due,
      dueText: t.due ? (t.due.phrase ?? (t.due.date_only ? t.due.date : t.due.at)) : undefined,
      priority: t.priority,
      labels: t.labels,
      source: source && Object.keys(source).length ? source : undefined,
      state: t.status === "deleted" ? (t.completed_at ? "completed_then_deleted" : "deleted") : t.status,
    };
  });
}

type AddedTask = { id: string; status: string; created_at: string; updated_at: string };

/**
 * Imports entries one by one through the MCP server's add_task, each with its idempotency key: importing the
 * same file twice creates nothing new. A task whose due add_task refuses (in the past, or not understood)
 * comes without one, under a key of its own, with the due kept in its notes. A task that was done or deleted
 * is completed / moved to the trash right after it is added, and only while nobody has touched it since.
 */
export async function importEntries(
  tasks: TaskCaller,
  who: CurrentUser,
  entries: ImportEntry[],
  format: ImportReport["format"],
): Promise<ImportReport> {
  const report: ImportReport = {
    format,
    tasks: entries.length,
    created: 0,
    already_imported: 0,
    without_due: 0,
    failed: [],
  };
  // Importing an account's own export must not double it: tasks still here are skipped.
  const here = entries.some((e) => e.exportedId)
    ? new Set((await listEveryTask(tasks, who)).map((t) => t.id))
    : new Set<string>();
  for (const [index, entry] of entries.entries()) {
    if (entry.exportedId && here.has(entry.exportedId)) {
      report.already_imported++;
      continue;
    }
    const add = (due: string | undefined, notes: string, key: string) =>
      tasks.call(who, "add_task", {
        title: entry.title,
        ...(notes ? { notes } : {}),
        ...(due ? { due } : {}),
        priority: entry.priority,
        ...(entry.labels.length ? { labels: entry.labels } : {}),
        ...(entry.source ? { source: entry.source } : {}),
        idempotency_key: key,
      });
    let result = await add(entry.due, entry.notes, entry.key);
    if (result.isError && entry.due && errorCode(result) === "invalid_input") {
      const kept = [entry.notes, `Due (not imported): ${entry.dueText ?? entry.due}`]
        .filter(Boolean)
        .join("\n\n");
      result = await add(undefined, kept, `${entry.key}:undated`);
      if (!result.isError) report.without_due++;
    }
    if (result.isError && errorCode(result) === "account_deleted") {
      throw new AccountActionError(401, "account_deleted", errorMessage(result));
    }
    if (result.isError) {
      report.failed.push({ index, title: entry.title.slice(0, 100), message: errorMessage(result) });
      continue;
    }
    const { task, created } = result.structuredContent as { task: AddedTask; created: boolean };
    if (created) report.created++;
    else report.already_imported++;
    const untouched = task.status === "pending" && task.created_at === task.updated_at;
    if (!untouched || entry.state === "pending") continue;
    if (entry.state !== "deleted") await settle(tasks.call(who, "complete_task", { task_id: task.id }));
    if (entry.state !== "completed") await settle(tasks.call(who, "delete_task", { task_id: task.id }));
  }
  return report;
}

async function settle(call: Promise<ToolResult>) {
  const result = await call;
  if (result.isError) {
    throw new AccountActionError(502, "task_service_error", `The import stopped: ${errorMessage(result)}`);
  }
}

function errorCode(result: ToolResult): string | undefined {
  return (result.structuredContent?.error as { code?: string } | undefined)?.code;
}

function errorMessage(result: ToolResult): string {
  const error = result.structuredContent?.error as { message?: string } | undefined;
  return (
    error?.message ??
    result.content
      .map((c) => (c.type === "text" ? c.text : ""))
      .join(" ")
      .replace(/^MCP error -?\d+: /, "")
  ).slice(0, 300);
}
