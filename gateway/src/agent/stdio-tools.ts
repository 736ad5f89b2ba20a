import { CallToolResultSchema, ToolSchema } from "@modelcontextprotocol/sdk/types.js";
import { MCPServerStdio } from "@openai/agents";
import { z } from "zod";
import type { Logger } from "../logger.ts";
import type { McpTool, TaskServiceClient, TaskServiceUser, ToolResult } from "../task-service/client.ts";
import { TaskServiceError } from "../task-service/errors.ts";
import { createChatAgent } from "./chat-agent.ts";
import type { ChatAgent } from "./contract.ts";
import type { McpStdioConfig, ModelConfig } from "./model-config.ts";
import { createOfflineModel } from "./offline/index.ts";
import { modelSource } from "./providers.ts";

/** What the agent needs of a tool source: the MCP server's tools, and calls to them as a user. */
export type TaskTools = Pick<TaskServiceClient, "call" | "listTools">;

// Starting the server may run the database migrations first (a fresh embedded database takes a while).
const CONNECT_TIMEOUT_SECONDS = 120;
const CALL_TIMEOUT_MS = 15_000;
/** Keys a task server has no use for: the model providers' and the gateway's session secret. */
const NOT_PASSED = /^(?:BETTER_AUTH_SECRET|[A-Z_]+_API_KEY)$/;

/**
 * The agent's tools from a stdio MCP server (`margin mcp --stdio`), one child process for all turns. Stdio has no
 * per-request identity: the server acts for the one account in its environment (MARGIN_USER_ID), so calls for any
 * other user are refused here, before they reach it. The child gets the gateway's environment minus the secrets
 * it has no use for; its log goes to the gateway's stderr.
 */
export function createStdioTools(config: McpStdioConfig): TaskTools & { close(): Promise<void> } {
  let server: Promise<MCPServerStdio> | undefined;

  const connect = () => {
    server ??= (async () => {
      const env = Object.fromEntries(
        Object.entries(process.env).filter(
          (entry): entry is [string, string] => entry[1] !== undefined && !NOT_PASSED.test(entry[0]),
        ),
      );
      const stdio = new MCPServerStdio({
        name: "margin-stdio",
        command: config.command,
        args: config.args,
        env: { ...env, MARGIN_USER_ID: config.userId },
        clientSessionTimeoutSeconds: CONNECT_TIMEOUT_SECONDS,
        timeout: CALL_TIMEOUT_MS,
      });
      await stdio.connect();
      return stdio;
    })();
    return server;
  };

  /** A failed exchange may mean the child is gone: the next call starts a new one. */
  async function restartAfter(err: unknown): Promise<never> {
    const failed = server;
    server = undefined;
    await (await failed?.catch(() => undefined))?.close().catch(() => undefined);
    throw TaskServiceError.from(err);
  }

  function served(user: TaskServiceUser) {
    if (user.id !== config.userId) {
      throw new TaskServiceError("The stdio MCP server serves another account.", false);
    }
  }

  return {
    async call(user, tool, args, signal): Promise<ToolResult> {
      served(user);
      try {
        const result = await (await connect()).callToolResult(tool, args, null, { signal });
        return CallToolResultSchema.parse(result) as ToolResult;
      } catch (err) {
        if (signal?.aborted) throw TaskServiceError.from(err);
        return restartAfter(err);
      }
    },

    async listTools(user): Promise<McpTool[]> {
      served(user);
      try {
        return z.array(ToolSchema).parse(await (await connect()).listTools());
      } catch (err) {
        return restartAfter(err);
      }
    },

    async close() {
      const running = await server?.catch(() => undefined);
      server = undefined;
      await running?.close();
    },
  };
}

/**
 * The gateway's chat agent for its configuration: tools from the gateway's own MCP client (`deps.tasks`, per-user
 * tokens), or, with AGENT_MCP_STDIO, from a stdio MCP server, which then is the only account that can chat.
 */
export function chatAgentFor(config: ModelConfig) {
  return (deps: { tasks: TaskServiceClient; logger: Logger }): ChatAgent => {
    const models = modelSource(config, createOfflineModel);
    if (!config.mcpStdio) return createChatAgent({ models, ...deps });
    const tools = createStdioTools(config.mcpStdio);
    const agent = createChatAgent({
      models,
      tasks: tools,
      logger: deps.logger,
      onlyUser: config.mcpStdio.userId,
    });
    return {
      ...agent,
      async close() {
        await agent.close();
        await tools.close();
      },
    };
  };
}
