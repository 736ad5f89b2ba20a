import type { ToolDefinition } from "../tool.ts";
import { addTask } from "./add-task.ts";
import { completeTask } from "./complete-task.ts";
import { deleteTask } from "./delete-task.ts";
import { listTasks } from "./list-tasks.ts";
import { reopenTask } from "./reopen-task.ts";
import { restoreTask } from "./restore-task.ts";
import { updateTask } from "./update-task.ts";

export const tools = [
  addTask,
  listTasks,
  completeTask,
  reopenTask,
  updateTask,
  deleteTask,
  restoreTask,
] as unknown as ToolDefinition[];
