import { toTaskView } from "../../tasks/view.ts";
import { due, labels, notes, oneTaskOutput, priority, source, taskId, title } from "../schemas.ts";
import { defineTool, describeTask, zoneNote } from "../tool.ts";

export const updateTask = defineTool({
  name: "update_task",
  title: "Update task",
  description:
    "Change a task's title, notes, due, priority or labels; omitted fields stay. A repeating task keeps its " +
    "repeat unless `due` gives a new one.",
  inputSchema: {
    task_id: taskId,
    title: title.optional(),
    notes: notes.optional(),
    due: due.nullable().optional().describe("As in add_task; null clears it"),
    priority: priority.optional(),
    labels: labels.optional().describe("Replaces all labels"),
    source: source.nullable().optional(),
  },
  outputSchema: oneTaskOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async execute({ task_id, ...patch }, { tasks }) {
    const result = await tasks.update(task_id, patch);
    const task = toTaskView(result.task, tasks.owner.tz);
    const text = result.changed
      ? `Updated ${describeTask(task)}. ${task.due ? zoneNote(tasks) : ""}`.trimEnd()
      : "That task is in the trash, so it was not changed. Restore it with restore_task first.";
    return { text, structured: { task, changed: result.changed } };
  },
});
