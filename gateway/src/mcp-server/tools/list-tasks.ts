import { z } from "zod";
import { toTaskView } from "../../tasks/view.ts";
import { taskView } from "../schemas.ts";
import { defineTool, describeTask } from "../tool.ts";

export const listTasks = defineTool({
  name: "list_tasks",
  title: "List tasks",
  description:
    "List the user's tasks, soonest due first (completed: newest first). Filters: `status` (default pending; " +
    '"deleted" lists the trash), `due` ("overdue", "today", "upcoming", "none", "any"), `query` searches ' +
    "title and notes. Pass `next_cursor` back as `cursor` for the next page.",
  inputSchema: {
    status: z.enum(["all", "pending", "completed", "deleted"]).optional(),
    due: z.enum(["overdue", "today", "upcoming", "none", "any"]).optional(),
    query: z.string().trim().max(200, "query: at most 200 characters").optional(),
    limit: z.number().int().min(1).max(200).optional(),
    cursor: z.string().max(500).optional(),
  },
  outputSchema: { tasks: z.array(taskView), next_cursor: z.string().nullable() },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async execute(args, { tasks }) {
    const page = await tasks.list(args);
    const views = page.tasks.map(toTaskView);
    const lines = views.map((t) => `- ${describeTask(t)}`);
    const more = page.nextCursor
      ? `\nMore tasks exist: call list_tasks with cursor "${page.nextCursor}".`
      : "";
    const text = views.length
      ? `${views.length} task(s):\n${lines.join("\n")}${more}`
      : "No tasks match these filters.";
    return { text, structured: { tasks: views, next_cursor: page.nextCursor } };
  },
});
