import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { TaskOwner, TaskRepository } from "../tasks/repository.ts";
import { registerTool, type ToolExtra, type ToolFailureLogger } from "./tool.ts";
import { tools } from "./tools/index.ts";

export type McpServerOptions = {
  repo: TaskRepository;
  /** Who is calling: over HTTP from the verified token (`extra.authInfo`), over stdio from the environment. */
  resolveOwner: (extra: ToolExtra) => TaskOwner;
  onFault: ToolFailureLogger;
  clock?: () => Date;
};

export const SERVER_INFO = { name: "margin-tasks", version: "0.1.0" };

const INSTRUCTIONS =
  "Margin holds the user's task list. Use list_tasks to find a task's id before changing it. " +
  "Dates are understood in the user's time zone.";

export function createMcpServer(opts: McpServerOptions): McpServer {
  const server = new McpServer(SERVER_INFO, { capabilities: { tools: {} }, instructions: INSTRUCTIONS });
  for (const tool of tools) {
    registerTool(
      server,
      tool,
      (extra) => opts.repo.forUser(opts.resolveOwner(extra), opts.clock),
      opts.onFault,
    );
  }
  return server;
}

/** The user of an HTTP call, as the bearer middleware verified it. */
export function ownerFromAuthInfo(extra: ToolExtra): TaskOwner {
  const userId = extra.authInfo?.extra?.userId;
  const tz = extra.authInfo?.extra?.tz;
  if (typeof userId !== "string" || typeof tz !== "string") throw new Error("call without a verified user");
  return { id: userId, tz };
}
