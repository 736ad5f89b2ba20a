import { z } from "zod/mini";

// zod/mini: the same checks as zod, in a fraction of the panel's bundle.
const str = z.nullable(z.string());

// What the gateway sends back, checked at the boundary: a changed server shape fails loudly here.
export const taskSchema = z.object({
  id: z.string(),
  title: z.string(),
  notes: z.string(),
  status: z.enum(["pending", "completed", "deleted"]),
  priority: z.enum(["low", "medium", "high"]),
  due: z.nullable(
    z.object({
      at: z.string(),
      date: z.string(),
      time: str,
      date_only: z.boolean(),
      tz: z.string(),
      phrase: str,
      repeat: str,
      rrule: str,
    }),
  ),
  labels: z.array(z.string()),
  source: z.nullable(z.object({ url: str, title: str, excerpt: str })),
  created_at: z.string(),
  updated_at: z.string(),
  completed_at: str,
  deleted_at: str,
});
export type Task = z.infer<typeof taskSchema>;
export type Priority = Task["priority"];

export const taskPageSchema = z.object({ tasks: z.array(taskSchema), next_cursor: str });
export const oneTaskSchema = z.object({ task: taskSchema });

export const changeSchema = z.object({
  seq: z.number(),
  op: z.enum(["created", "updated", "completed", "reopened", "deleted", "restored"]),
  task_id: z.string(),
  task: taskSchema,
  at: z.string(),
});
export type Change = z.infer<typeof changeSchema>;

const duePreviewSchema = z.object({
  due: z.object({
    at: z.string(),
    date_only: z.boolean(),
    tz: z.string(),
    phrase: str,
    rrule: str,
    text: z.string(),
  }),
});

/** What quick-add would store for a typed line: the title without its date phrase, and the due (or none). */
export const titlePreviewSchema = z.object({
  title: z.string(),
  extracted: z.nullable(z.object({ phrase: str, title_before: z.string() })),
  due: z.nullable(duePreviewSchema.shape.due),
});
export type TitlePreview = z.infer<typeof titlePreviewSchema>;

export const errorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});

/** What a new task is sent as (POST /api/tasks). */
export type NewTask = {
  title: string;
  notes?: string;
  due?: string;
  priority?: Priority;
  labels?: string[];
  source?: { url?: string; title?: string; excerpt?: string };
  /** Quick-add: move a date phrase from the title to the due ("call mom tomorrow 5pm"). Captures leave it off. */
  extract_due?: boolean;
};

export type TaskPatch = {
  title?: string;
  notes?: string;
  due?: string | null;
  priority?: Priority;
};
