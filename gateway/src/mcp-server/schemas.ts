import { z } from "zod";
import { PRIORITIES } from "../db/task-schema.ts";

// Inputs: limits keep one call small; messages say what to send instead. Descriptions are short on purpose:
// every byte here is read by the model in every conversation (test/mcp/tool-definitions.test.ts measures it).

/**
 * Text Postgres can store: no NUL character (text columns refuse it) and no lone UTF-16 surrogate (jsonb refuses
 * its escape). Checked at the tool boundary so such input is a clear mistake to fix, not a failed write.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
export const storable = (s: string) => !s.includes("\u0000") && !LONE_SURROGATE.test(s);
/** Whether every string in a parsed JSON value (keys too) is storable text. */
export const storableJson = (value: unknown): boolean =>
  typeof value === "string"
    ? storable(value)
    : typeof value === "object" && value !== null
      ? Object.entries(value).every(([key, v]) => storable(key) && storableJson(v))
      : true;
export const text = (field: string, max: number) =>
  z
    .string()
    .max(max, `${field}: at most ${max.toLocaleString("en")} characters`)
    .refine(storable, `${field}: remove the NUL character or broken Unicode (a lone surrogate)`);

export const taskId = text("task_id", 36).trim().describe("Id, or its first 8 characters");
export const title = text("title", 500).trim().min(1, "title must not be empty");
export const notes = text("notes", 10_000);
export const due = text("due", 200).trim();
export const priority = z.enum(PRIORITIES);
export const labels = z
  .array(text("each label", 50).trim().min(1))
  .max(20, "at most 20 labels")
  .describe("Tags, without #");
export const source = z
  .object({
    url: z
      .url({ protocol: /^https?$/, error: "source.url must be an http(s) URL" })
      .max(2048)
      .refine(storable, "source.url: remove the NUL character")
      .optional(),
    title: text("source.title", 500).optional(),
    excerpt: text("source.excerpt", 4000).optional(),
  })
  .describe("The web page the task comes from");

// Output: the public task view (see tasks/view.ts), spelled out once, in list_tasks.
const instant = z.string();
export const taskView = z.object({
  id: z.string(),
  title: z.string(),
  notes: z.string(),
  status: z.enum(["pending", "completed", "deleted"]),
  priority,
  due: z
    .object({
      at: instant,
      date: z.string(),
      time: z.string().nullable(),
      date_only: z.boolean(),
      tz: z.string(),
      phrase: z.string().nullable(),
      repeat: z.string().nullable(),
      rrule: z.string().nullable(),
    })
    .nullable(),
  labels: z.array(z.string()),
  source: z
    .object({ url: z.string().nullable(), title: z.string().nullable(), excerpt: z.string().nullable() })
    .nullable(),
  created_at: instant,
  updated_at: instant,
  completed_at: instant.nullable(),
  deleted_at: instant.nullable(),
});

/** One task in the other tools' outputs: the same object as list_tasks' items, named rather than repeated. */
export const taskRef = z.looseObject({ id: z.string() }).describe("The task, as in list_tasks");

/** Output of the tools that act on one task. */
export const oneTaskOutput = { task: taskRef, changed: z.boolean() };
