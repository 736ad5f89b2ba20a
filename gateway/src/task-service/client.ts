import { AsyncLocalStorage } from "node:async_hooks";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import {
  type CallToolResult,
  CallToolResultSchema,
  type Tool as McpTool,
} from "@modelcontextprotocol/sdk/types.js";
import { TaskServiceError } from "./errors.ts";
import { StatelessHttpTransport } from "./stateless-transport.ts";
import { createMcpTokens } from "./tokens.ts";

export type TaskServiceUser = { id: string; timezone: string };

export type TaskServiceOptions = {
  mcpUrl: URL;
  tokenSecret: string;
  /** Per call; the MCP server answers in milliseconds, so a slow call means trouble. */
  timeoutMs?: number;
  onCall?: (tool: string, seconds: number, outcome: "ok" | "tool_error" | "unavailable" | "failed") => void;
};

export type ToolResult = CallToolResult & { structuredContent?: Record<string, unknown> };

const TOKEN_TTL_SECONDS = 300;

/**
 * The gateway's one MCP client to the task service, shared by all requests of all users. The server is
 * stateless, so one connection serves everyone: each HTTP request carries the token of the user whose call it
 * is, taken from async context, never from shared state.
 */
export function createTaskServiceClient(opts: TaskServiceOptions) {
  const currentToken = new AsyncLocalStorage<string>();
  const { tokenFor } = createMcpTokens({
    secret: opts.tokenSecret,
    audience: opts.mcpUrl,
    ttlSeconds: TOKEN_TTL_SECONDS,
  });
  let connection: Promise<Client> | undefined;

  function connect(): Promise<Client> {
    connection ??= (async () => {
      const client = new Client({ name: "margin-gateway", version: "0.1.0" });
      const transport = new StatelessHttpTransport(opts.mcpUrl, {
        headers: () => ({ authorization: `Bearer ${currentToken.getStore()}` }),
      });
      await client.connect(transport, {
        timeout: opts.timeoutMs ?? 10_000,
      });
      return client;
    })().catch((err) => {
      connection = undefined;
      throw err;
    });
    return connection;
  }

  return {
    /** Calls one tool as `user`. Tool-level errors come back as `isError` results; transport faults throw. */
    async call(
      user: TaskServiceUser,
      tool: string,
      args: Record<string, unknown>,
      signal?: AbortSignal,
    ): Promise<ToolResult> {
      const started = performance.now();
      const token = await tokenFor(user);
      try {
        const result = await currentToken.run(token, async () => {
          const client = await connect();
          return client.callTool({ name: tool, arguments: args }, CallToolResultSchema, {
            timeout: opts.timeoutMs ?? 10_000,
            signal,
          });
        });
        opts.onCall?.(tool, (performance.now() - started) / 1000, result.isError ? "tool_error" : "ok");
        return result as ToolResult;
      } catch (err) {
        const failure = TaskServiceError.from(err);
        opts.onCall?.(
          tool,
          (performance.now() - started) / 1000,
          failure.unavailable ? "unavailable" : "failed",
        );
        throw failure;
      }
    },

    /** The server's tools (names, descriptions, input schemas), listed as `user`: the list is the same for all. */
    async listTools(user: TaskServiceUser): Promise<McpTool[]> {
      const token = await tokenFor(user);
      try {
        return await currentToken.run(token, async () => {
          const client = await connect();
          return (await client.listTools(undefined, { timeout: opts.timeoutMs ?? 10_000 })).tools;
        });
      } catch (err) {
        throw TaskServiceError.from(err);
      }
    },

    async close() {
      const client = await connection?.catch(() => undefined);
      connection = undefined;
      await client?.close();
    },
  };
}

export type { McpTool };
export type TaskServiceClient = ReturnType<typeof createTaskServiceClient>;
