import { toTaskView } from "../../tasks/view.ts";
import { oneTaskOutput, taskId } from "../schemas.ts";
import { defineTool, describeTask } from "../tool.ts";

export const completeTask = defineTool({
  name: "complete_task",
  title: "Complete task",
  description:
    "Mark a task done. A repeating task moves to its next occurrence instead and stays open. Undo with reopen_task.",
  inputSchema: { task_id: taskId },
  outputSchema: oneTaskOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async execute({ task_id }, { tasks }) {
    const result = await tasks.complete(task_id);
    const task = toTaskView(result.task);
    const text = result.nextDue
      ? `Done for this time; it repeats, next due ${task.due?.date}${task.due?.time ? ` ${task.due.time}` : ""}: ${describeTask(task)}.`
      : result.changed
        ? `Completed ${describeTask(task)}. reopen_task undoes it.`
        : task.deleted_at
          ? `That task is deleted: ${describeTask(task)}. Restore it with restore_task first.`
          : `Already completed: ${describeTask(task)}.`;
    return { text, structured: { task, changed: result.changed } };
  },
});
