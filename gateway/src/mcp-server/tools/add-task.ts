import { z } from "zod";
import { toTaskView } from "../../tasks/view.ts";
import { due, labels, notes, priority, source, taskRef, text, title } from "../schemas.ts";
import { defineTool, describeTask, zoneNote } from "../tool.ts";

export const addTask = defineTool({
  name: "add_task",
  title: "Add task",
  description:
    "Add a task. The title is stored as given. `due` is in the user's time zone, natural language or ISO: " +
    '"tomorrow 5pm", "next friday", "in 2 hours", "jan 27 9:30am", "2026-12-01", "every monday at 9" ' +
    '("at 9" is 09:00), "every weekday". Today or later; a past date is refused.',
  inputSchema: {
    title,
    notes: notes.optional(),
    due: due.optional().describe("When it is due; omit for none"),
    priority: priority.optional().describe("Default medium"),
    labels: labels.optional(),
    source: source.optional(),
    extract_due: z.boolean().optional().describe("Move a date phrase from the title to due; see `extracted`"),
    idempotency_key: text("idempotency_key", 200)
      .min(1)
      .optional()
      .describe("Same key again returns the first task, not a duplicate"),
  },
  outputSchema: {
    task: taskRef,
    created: z.boolean(),
    extracted: z.object({ phrase: z.string(), title_before: z.string() }).nullable(),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  async execute(args, { tasks }) {
    const result = await tasks.add({
      title: args.title,
      notes: args.notes,
      due: args.due,
      extractDue: args.extract_due,
      priority: args.priority,
      labels: args.labels,
      source: args.source,
      idempotencyKey: args.idempotency_key,
    });
    const task = toTaskView(result.task, tasks.owner.tz);
    const extracted = result.extracted && {
      phrase: result.extracted.phrase,
      title_before: result.extracted.titleBefore,
    };
    const took = extracted ? ` Took "${extracted.phrase}" from the title as the due.` : "";
    const text = result.created
      ? `Added ${describeTask(task)}.${took} ${task.due ? zoneNote(tasks) : ""}`.trimEnd()
      : `Already added with this idempotency_key: ${describeTask(task)}. Nothing new was added.`;
    return { text, structured: { task, created: result.created, extracted } };
  },
});
