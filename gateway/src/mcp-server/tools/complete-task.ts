import { toTaskView } from "../../tasks/view.ts";
import { oneTaskOutput, taskId } from "../schemas.ts";
import { defineTool, describeTask } from "../tool.ts";

export const completeTask = defineTool({
  name: "complete_task",
  title: "Complete task",
  description: "Mark a task done; a repeating one moves to its next occurrence instead. Undo: reopen_task.",
  inputSchema: { task_id: taskId },
  outputSchema: oneTaskOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async execute({ task_id }, { tasks }) {
    const result = await tasks.complete(task_id);
    const task = toTaskView(result.task, tasks.owner.tz);
    const text = result.nextDue
      ? `Done for this time; it repeats, next occurrence: ${describeTask(task)}.`
      : result.changed
        ? `Completed ${describeTask(task)}. reopen_task undoes it.`
        : task.status === "deleted"
          ? `That task is in the trash: ${describeTask(task)}. Restore it with restore_task first.`
          : `Already completed: ${describeTask(task)}.`;
    return { text, structured: { task, changed: result.changed } };
  },
});
