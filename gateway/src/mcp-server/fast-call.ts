import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import {
  getParseErrorMessage,
  safeParse,
  safeParseAsync,
} from "@modelcontextprotocol/sdk/server/zod-compat.js";
import { isJsonContentType } from "@modelcontextprotocol/sdk/shared/mediaType.js";
import {
  CallToolRequestSchema,
  type CallToolResult,
  CallToolResultSchema,
  ErrorCode,
  isJSONRPCRequest,
  JSONRPCMessageSchema,
  McpError,
  SUPPORTED_PROTOCOL_VERSIONS,
} from "@modelcontextprotocol/sdk/types.js";
import type { Request, Response } from "express";
import type { TaskRepository } from "../tasks/repository.ts";
import { ownerFromAuth } from "./server.ts";
import { runTool, type ToolDefinition, type ToolFailureLogger, toolSchemas } from "./tool.ts";
import { tools } from "./tools/index.ts";

const toolsByName = new Map<string, ToolDefinition>(tools.map((tool) => [tool.name, tool]));

/**
 * Answers a plain, valid stateless `tools/call` without building an McpServer and transport for it.
 *
 * Why: the SDK's stateless path costs about a millisecond per request (a server with eight tools registered, the
 * Node↔Fetch adapter of its transport, a Response body stream), which is most of a tool call's time. This
 * function performs the same steps the SDK performs for such a request, with the SDK's own schemas and
 * helpers, and writes the same JSON-RPC response (same key order, headers and status):
 * transport checks (Accept, Content-Type, protocol version, JSON-RPC shape) → `CallToolRequestSchema` →
 * tool lookup → input schema → the tool (`runTool`, shared with the SDK handler) → output schema →
 * `CallToolResultSchema` → `{ result, jsonrpc, id }`. test/mcp/fast-call.test.ts compares the two answers byte for
 * byte, so an SDK upgrade that changes its own fails there.
 *
 * Anything else returns false and the caller hands the request to the SDK unchanged: other methods
 * (initialize, tools/list, ping, notifications), batches, `_meta` or task-augmented calls, unknown tools,
 * unusual headers, and arguments that fail the input schema (so the SDK words that error itself). Malformed
 * params (no tool name, arguments not an object) go there too, where call-guard.ts answers them with -32602.
 * The only errors answered here are those raised after the tool ran (it cannot run twice).
 */
export async function answerToolCall(
  req: Request,
  res: Response,
  repo: TaskRepository,
  onFault: ToolFailureLogger,
): Promise<boolean> {
  // The transport's checks, in its order; any failure is the SDK's to answer.
  const accept = req.headers.accept;
  if (!accept?.includes("application/json") || !accept.includes("text/event-stream")) return false;
  if (!isJsonContentType(req.headers["content-type"] ?? null)) return false;
  const version = req.headers["mcp-protocol-version"];
  if (
    version !== undefined &&
    (typeof version !== "string" || !SUPPORTED_PROTOCOL_VERSIONS.includes(version))
  )
    return false;
  const body: unknown = req.body;
  if (typeof body !== "object" || body === null || Array.isArray(body)) return false;
  if ((body as { method?: unknown }).method !== "tools/call") return false;
  const message = JSONRPCMessageSchema.safeParse(body);
  if (!message.success || !isJSONRPCRequest(message.data)) return false;
  const request = message.data;
  // The server's checks: a well-formed call of one of our tools, without progress/task extensions.
  const call = safeParse(CallToolRequestSchema, request);
  if (!call.success || call.data.params.task !== undefined || call.data.params._meta !== undefined)
    return false;
  const tool = toolsByName.get(call.data.params.name);
  if (!tool) return false;
  const schemas = toolSchemas(tool);
  const args = await safeParseAsync(schemas.input, request.params?.arguments ?? {});
  if (!args.success) return false;

  const auth: AuthInfo | undefined = req.auth;
  let result: CallToolResult = await runTool(
    tool,
    args.data as Record<string, unknown>,
    () => repo.forUser(ownerFromAuth(auth)),
    onFault,
  );
  // McpServer's output check: a failure becomes an isError result worded like the SDK's.
  if (!result.isError) {
    const output = result.structuredContent
      ? await safeParseAsync(schemas.output, result.structuredContent)
      : undefined;
    if (!output?.success) {
      const reason = output
        ? `Output validation error: Invalid structured content for tool ${tool.name}: ${getParseErrorMessage(output.error)}`
        : `Output validation error: Tool ${tool.name} has an output schema but no structured content was provided`;
      result = toolErrorResult(new McpError(ErrorCode.InvalidParams, reason).message);
    }
  }
  // Server's result check, whose parsed value (not the handler's object) is what the SDK sends.
  const checked = safeParse(CallToolResultSchema, result);
  const response = checked.success
    ? { result: checked.data, jsonrpc: "2.0", id: request.id }
    : {
        jsonrpc: "2.0",
        id: request.id,
        error: {
          code: ErrorCode.InvalidParams,
          message: new McpError(
            ErrorCode.InvalidParams,
            `Invalid tools/call result: ${checked.error instanceof Error ? checked.error.message : String(checked.error)}`,
          ).message,
        },
      };
  const text = JSON.stringify(response);
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
  return true;
}

/** McpServer's `createToolError`. */
function toolErrorResult(text: string): CallToolResult {
  return { content: [{ type: "text", text }], isError: true };
}
