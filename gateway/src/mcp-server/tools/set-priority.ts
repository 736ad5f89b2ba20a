import { toTaskView } from "../../tasks/view.ts";
import { oneTaskOutput, priority, taskId } from "../schemas.ts";
import { defineTool, describeTask } from "../tool.ts";

export const setPriority = defineTool({
  name: "set_priority",
  title: "Set priority",
  description: 'Set a task\'s priority: "low", "medium" or "high".',
  inputSchema: { task_id: taskId, priority },
  outputSchema: oneTaskOutput,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async execute({ task_id, priority }, { tasks }) {
    const result = await tasks.update(task_id, { priority });
    const task = toTaskView(result.task);
    const text = result.changed
      ? `Priority is now ${priority}: ${describeTask(task)}.`
      : `That task is deleted, so it was not changed. Restore it with restore_task first.`;
    return { text, structured: { task, changed: result.changed } };
  },
});
