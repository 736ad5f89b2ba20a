import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";
import type { TaskOwner, TaskRepository } from "../tasks/repository.ts";
import { guardToolCalls } from "./call-guard.ts";
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
  "Margin holds the user's task list. Find a task's id with list_tasks before changing it; its first 8 " +
  "characters are enough. Dates are read and shown in the user's time zone.";

// One validator for every server: the SDK otherwise builds a fresh Ajv instance (with all its formats) inside
// each `new McpServer`, about half a millisecond per stateless request. The server only uses it to check
// elicitation answers, and Ajv instances are safe to share.
const jsonSchemaValidator = new AjvJsonSchemaValidator();

/** The SDK's server, with malformed tool calls answered -32602 on every transport (see call-guard.ts). */
class MarginMcpServer extends McpServer {
  override async connect(transport: Transport): Promise<void> {
    await super.connect(transport);
    guardToolCalls(transport);
  }
}

export function createMcpServer(opts: McpServerOptions): McpServer {
  const server = new MarginMcpServer(SERVER_INFO, {
    capabilities: { tools: {} },
    instructions: INSTRUCTIONS,
    jsonSchemaValidator,
  });
  for (const tool of tools) {
    registerTool(
      server,
      tool,
      (extra) => opts.repo.forUser(opts.resolveOwner(extra), opts.clock),
      opts.onFault,
    );
  }
  // The SDK promises `tools/list_changed` notifications once a tool is registered, but the tool list is fixed
  // and, over stateless HTTP, no server outlives its request to send one.
  server.server.registerCapabilities({ tools: { listChanged: false } });
  return server;
}

/** The user of an HTTP call, as the bearer middleware verified it. */
export function ownerFromAuthInfo(extra: ToolExtra): TaskOwner {
  return ownerFromAuth(extra.authInfo);
}

export function ownerFromAuth(authInfo: AuthInfo | undefined): TaskOwner {
  const userId = authInfo?.extra?.userId;
  const tz = authInfo?.extra?.tz;
  if (typeof userId !== "string" || typeof tz !== "string") throw new Error("call without a verified user");
  return { id: userId, tz };
}
