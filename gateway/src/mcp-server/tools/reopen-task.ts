import { toTaskView } from "../../tasks/view.ts";
import { oneTaskOutput, taskId } from "../schemas.ts";
import { defineTool, describeTask } from "../tool.ts";

export const reopenTask = defineTool({
  name: "reopen_task",
  title: "Reopen task",
  description: "Mark a completed task as not done again.",
  inputSchema: { task_id: taskId },
  outputSchema: oneTaskOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async execute({ task_id }, { tasks }) {
    const result = await tasks.reopen(task_id);
    const task = toTaskView(result.task, tasks.owner.tz);
    const text = result.changed
      ? `Reopened ${describeTask(task)}.`
      : `Not completed, nothing to reopen: ${describeTask(task)}.`;
    return { text, structured: { task, changed: result.changed } };
  },
});
