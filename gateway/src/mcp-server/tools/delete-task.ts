import { toTaskView } from "../../tasks/view.ts";
import { oneTaskOutput, taskId } from "../schemas.ts";
import { defineTool, describeTask } from "../tool.ts";

export const deleteTask = defineTool({
  name: "delete_task",
  title: "Delete task",
  description: "Move a task to the trash; restore_task brings it back.",
  inputSchema: { task_id: taskId },
  outputSchema: oneTaskOutput,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  async execute({ task_id }, { tasks }) {
    const result = await tasks.delete(task_id);
    const task = toTaskView(result.task, tasks.owner.tz);
    const text = result.changed
      ? `Deleted ${describeTask(task)}. Tell the user it can be restored.`
      : `Already in the trash: ${describeTask(task)}.`;
    return { text, structured: { task, changed: result.changed } };
  },
});
