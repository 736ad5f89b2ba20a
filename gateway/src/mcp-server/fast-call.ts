import type { IncomingMessage, ServerResponse } from "node:http";
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
 * `CallToolResultSchema` → `{ result, jsonrpc, id }`. The two schemas around the tool are skipped where the value
 * they would produce is plain to see (`plainToolCall`, `plainResult`). test/mcp/fast-call.test.ts compares the two
 * answers byte for byte, so an SDK upgrade that changes its own fails there.
 *
 * Anything else returns false and the caller hands the request to the SDK unchanged: other methods
 * (initialize, tools/list, ping, notifications), batches, `_meta` or task-augmented calls, unknown tools,
 * unusual headers, and arguments that fail the input schema (so the SDK words that error itself). Malformed
 * params (no tool name, arguments not an object) go there too, where call-guard.ts answers them with -32602.
 * The only errors answered here are those raised after the tool ran (it cannot run twice).
 */
export async function answerToolCall(
  req: IncomingMessage & { body?: unknown; auth?: AuthInfo },
  res: ServerResponse,
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
  if (!isPlainObject(body) || body.method !== "tools/call") return false;
  const request = plainToolCall(body) ?? sdkToolCall(body);
  if (!request) return false;
  const tool = toolsByName.get(request.name);
  if (!tool) return false;
  const schemas = toolSchemas(tool);
  const args = await safeParseAsync(schemas.input, request.arguments ?? {});
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
  const checked = plainResult(result) ?? safeParse(CallToolResultSchema, result);
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

type ToolCall = { id: string | number; name: string; arguments: Record<string, unknown> | undefined };

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The transport's and the server's checks by their schemas: a JSON-RPC request (`JSONRPCMessageSchema`), then a
 * well-formed call (`CallToolRequestSchema`) without progress or task extensions.
 */
function sdkToolCall(body: unknown): ToolCall | undefined {
  const message = JSONRPCMessageSchema.safeParse(body);
  if (!message.success || !isJSONRPCRequest(message.data)) return undefined;
  const request = message.data;
  const call = safeParse(CallToolRequestSchema, request);
  if (!call.success || call.data.params.task !== undefined || call.data.params._meta !== undefined)
    return undefined;
  return { id: request.id, name: call.data.params.name, arguments: request.params?.arguments as never };
}

const REQUEST_KEYS = new Set(["jsonrpc", "id", "method", "params"]);
const PARAMS_KEYS = new Set(["name", "arguments"]);

/**
 * The call as `sdkToolCall` reads it, for the request every client sends: exactly `jsonrpc` "2.0", a string or
 * integer `id`, `method` and `params` holding a string `name` and, optionally, an `arguments` object. Both schemas
 * accept such a request and leave its values as they are, so the values are read without them (their two
 * parses are about a tenth of the call's own time); anything else is left to them (undefined).
 */
function plainToolCall(body: Record<string, unknown>): ToolCall | undefined {
  const { id, params } = body;
  if (body.jsonrpc !== "2.0" || !(typeof id === "string" || Number.isSafeInteger(id))) return undefined;
  if (!isPlainObject(params) || typeof params.name !== "string") return undefined;
  if (params.arguments !== undefined && !isPlainObject(params.arguments)) return undefined;
  for (const key in body) if (!REQUEST_KEYS.has(key)) return undefined;
  for (const key in params) if (!PARAMS_KEYS.has(key)) return undefined;
  return { id: id as string | number, name: params.name, arguments: params.arguments };
}

/**
 * `CallToolResultSchema`'s parsed value, for the results `runTool` and the output check build: one text block,
 * `structuredContent` an object, `isError` a boolean. The schema accepts these and copies them in its own key
 * order (content, structuredContent, isError); anything else is left to it (undefined).
 */
function plainResult(result: CallToolResult): { success: true; data: CallToolResult } | undefined {
  const { content, structuredContent, isError } = result;
  const block = content.length === 1 ? content[0] : undefined;
  if (block?.type !== "text" || typeof block.text !== "string") return undefined;
  if (structuredContent !== undefined && !isPlainObject(structuredContent)) return undefined;
  if (isError !== undefined && typeof isError !== "boolean") return undefined;
  for (const key in result)
    if (key !== "content" && key !== "structuredContent" && key !== "isError") return undefined;
  for (const key in block) if (key !== "type" && key !== "text") return undefined;
  const data: CallToolResult = { content: [{ type: "text", text: block.text }] };
  if (structuredContent !== undefined) data.structuredContent = structuredContent;
  if (isError !== undefined) data.isError = isError;
  return { success: true, data };
}
