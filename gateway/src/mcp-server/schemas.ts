import { z } from "zod";
import { PRIORITIES } from "../db/task-schema.ts";

// Inputs: limits keep one call small; messages say what to send instead.
export const taskId = z.uuid({
  error: "task_id must be a task id (a UUID) as returned by add_task or list_tasks",
});
export const title = z
  .string()
  .trim()
  .min(1, "title must not be empty")
  .max(500, "title: at most 500 characters");
export const notes = z.string().max(10_000, "notes: at most 10,000 characters");
export const due = z.string().trim().max(200, "due: at most 200 characters");
export const priority = z.enum(PRIORITIES);
export const labels = z
  .array(z.string().trim().min(1).max(50, "each label: at most 50 characters"))
  .max(20, "at most 20 labels");
export const source = z.object({
  url: z
    .url({ protocol: /^https?$/, error: "source.url must be an http(s) URL" })
    .max(2048)
    .optional(),
  title: z.string().max(500).optional(),
  excerpt: z.string().max(4000, "source.excerpt: at most 4,000 characters").optional(),
});

// Output: the public task view (see tasks/view.ts).
const instant = z.string();
export const taskView = z.object({
  id: z.string(),
  title: z.string(),
  notes: z.string(),
  status: z.enum(["pending", "completed"]),
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

/** Output of the tools that act on one task. */
export const oneTaskOutput = { task: taskView, changed: z.boolean() };
