import { z } from "zod";
import { toTaskView } from "../../tasks/view.ts";
import { taskView, text } from "../schemas.ts";
import { defineTool, describeTask, zoneNote } from "../tool.ts";

export const listTasks = defineTool({
  name: "list_tasks",
  title: "List tasks",
  description:
    "List the user's tasks, soonest due first, undated last; 50 per page unless `limit` says otherwise. Days and " +
    "times are in the user's time zone, named in the answer with today's date. Ids are shown as their first 8 " +
    "characters, which every tool accepts.",
  inputSchema: {
    status: z
      .enum(["pending", "completed", "all", "deleted"])
      .optional()
      .describe(
        "pending (default); completed (newest first); all = pending and completed, not the trash; deleted = the trash",
      ),
    due: z
      .enum(["overdue", "today", "upcoming", "none", "any"])
      .optional()
      .describe("overdue: pending and past due; today; upcoming: after today; none: no due; any (default)"),
    query: text("query", 200).trim().optional().describe("Text in the title or notes"),
    limit: z.number().int().min(1).max(200).optional().describe("1-200, default 50"),
    cursor: text("cursor", 500).optional().describe("next_cursor of the previous page"),
  },
  outputSchema: { tasks: z.array(taskView), next_cursor: z.string().nullable() },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  async execute(args, { tasks }) {
    const page = await tasks.list(args);
    const views = page.tasks.map((row) => toTaskView(row, tasks.owner.tz));
    const lines = views.map((t) => `- ${describeTask(t)}`);
    const more = page.nextCursor ? `\nMore: call list_tasks with cursor "${page.nextCursor}".` : "";
    const text = views.length
      ? `${zoneNote(tasks)} ${views.length} task(s):\n${lines.join("\n")}${more}`
      : `${zoneNote(tasks)} No tasks match these filters.`;
    return { text, structured: { tasks: views, next_cursor: page.nextCursor } };
  },
});
