/** One line a person reads for a tool call: while it runs ("Adding 'Buy milk'…") and when done. */

type TaskLike = { title?: unknown; due?: { date?: unknown; time?: unknown } | null };

const quote = (title: unknown) => {
  const t = typeof title === "string" ? title : "";
  return `'${t.length > 60 ? `${t.slice(0, 59)}…` : t}'`;
};

const dueOf = (task: TaskLike) => {
  const due = task.due;
  if (!due || typeof due.date !== "string") return "";
  return ` · due ${due.date}${typeof due.time === "string" ? ` ${due.time}` : ""}`;
};

export function startedLabel(tool: string, args: Record<string, unknown>): string {
  const title = typeof args.title === "string" ? ` ${quote(args.title)}` : "";
  switch (tool) {
    case "add_task":
      return `Adding${title}…`;
    case "list_tasks":
      return "Looking at your tasks…";
    case "complete_task":
      return "Completing a task…";
    case "reopen_task":
      return "Reopening a task…";
    case "update_task":
      return "Updating a task…";
    case "delete_task":
      return "Moving a task to the trash…";
    case "restore_task":
      return "Restoring a task…";
    default:
      return `Running ${tool}…`;
  }
}

const VERBS: Record<string, string> = {
  add_task: "Added",
  complete_task: "Completed",
  reopen_task: "Reopened",
  update_task: "Updated",
  delete_task: "Moved to the trash:",
  restore_task: "Restored",
};

/** The finished line, from the tool's structured result when it has one, else from its text. */
export function finishedSummary(tool: string, structured: Record<string, unknown> | undefined, text: string) {
  if (tool === "list_tasks" && structured && Array.isArray(structured.tasks)) {
    const n = structured.tasks.length;
    return n === 0 ? "No tasks match" : `Found ${n} task${n === 1 ? "" : "s"}`;
  }
  const task = structured?.task as TaskLike | undefined;
  if (task && VERBS[tool])
    return `${VERBS[tool]} ${quote(task.title)}${tool === "delete_task" ? "" : dueOf(task)}`;
  return text.split("\n")[0] ?? tool;
}
