import { toTaskView } from "../../tasks/view.ts";
import { due, labels, notes, oneTaskOutput, priority, source, taskId, title } from "../schemas.ts";
import { defineTool, describeTask } from "../tool.ts";

export const updateTask = defineTool({
  name: "update_task",
  title: "Update task",
  description:
    "Change a task's title, notes, due, priority or labels; omitted fields stay as they are. `due` takes the " +
    'same phrases as add_task ("friday 10am", "every 2 weeks"); null removes the due date. Rescheduling a ' +
    "repeating task moves this occurrence and keeps the repeat. `labels` replaces all labels.",
  inputSchema: {
    task_id: taskId,
    title: title.optional(),
    notes: notes.optional(),
    due: due.nullable().optional(),
    priority: priority.optional(),
    labels: labels.optional(),
    source: source.nullable().optional(),
  },
  outputSchema: oneTaskOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async execute({ task_id, ...patch }, { tasks }) {
    const result = await tasks.update(task_id, patch);
    const task = toTaskView(result.task);
    const text = result.changed
      ? `Updated ${describeTask(task)}.`
      : `That task is deleted, so it was not changed. Restore it with restore_task first.`;
    return { text, structured: { task, changed: result.changed } };
  },
});
