import { toTaskView } from "../../tasks/view.ts";
import { oneTaskOutput, taskId } from "../schemas.ts";
import { defineTool, describeTask } from "../tool.ts";

export const restoreTask = defineTool({
  name: "restore_task",
  title: "Restore task",
  description: 'Bring a task back from the trash (list_tasks status "deleted").',
  inputSchema: { task_id: taskId },
  outputSchema: oneTaskOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async execute({ task_id }, { tasks }) {
    const result = await tasks.restore(task_id);
    const task = toTaskView(result.task, tasks.owner.tz);
    const text = result.changed
      ? `Restored ${describeTask(task)}.`
      : `Not in the trash, nothing to restore: ${describeTask(task)}.`;
    return { text, structured: { task, changed: result.changed } };
  },
});
