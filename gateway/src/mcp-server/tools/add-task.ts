import { z } from "zod";
import { toTaskView } from "../../tasks/view.ts";
import { due, labels, notes, priority, source, taskView, title } from "../schemas.ts";
import { defineTool, describeTask } from "../tool.ts";

export const addTask = defineTool({
  name: "add_task",
  title: "Add task",
  description:
    "Add a task to the user's list. `due` is natural language in the user's time zone or ISO 8601, e.g. " +
    '"tomorrow 5pm", "next friday", "in 2 hours", "jan 27 9:30am", "2026-12-01", "every monday at 9", ' +
    '"every weekday". Without `due`, a date in the title ("call mom tomorrow 5pm") is used and removed from it. ' +
    "Put the web page a task comes from in `source`.",
  inputSchema: {
    title,
    notes: notes.optional(),
    due: due.optional(),
    priority: priority.optional(),
    labels: labels.optional(),
    source: source.optional(),
    idempotency_key: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe(
        "Client-chosen key; retrying with the same key returns the same task instead of a duplicate.",
      ),
  },
  outputSchema: { task: taskView, created: z.boolean() },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async execute(args, { tasks }) {
    const { task: row, created } = await tasks.add({
      title: args.title,
      notes: args.notes,
      due: args.due,
      priority: args.priority,
      labels: args.labels,
      source: args.source,
      idempotencyKey: args.idempotency_key,
    });
    const task = toTaskView(row);
    const text = created
      ? `Added ${describeTask(task)}. Confirm to the user; use this id with update_task or complete_task.`
      : `This task already existed (same idempotency_key): ${describeTask(task)}. Nothing new was added.`;
    return { text, structured: { task, created } };
  },
});
