import { safeParse } from "@modelcontextprotocol/sdk/server/zod-compat.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  CallToolRequestSchema,
  ErrorCode,
  isJSONRPCRequest,
  type JSONRPCErrorResponse,
  type JSONRPCMessage,
} from "@modelcontextprotocol/sdk/types.js";

/**
 * The JSON-RPC error for a `tools/call` whose params are malformed (no tool name, arguments not an object…),
 * or undefined. Why: the SDK parses a request against its method's schema before any handler, and a failed parse
 * escapes as -32603 "Internal error" carrying the whole zod issue dump. It is the caller's mistake: -32602, short.
 */
export function malformedToolCall(message: JSONRPCMessage): JSONRPCErrorResponse | undefined {
  if (!isJSONRPCRequest(message) || message.method !== "tools/call") return undefined;
  const parsed = safeParse(CallToolRequestSchema, message);
  if (parsed.success) return undefined;
  const issues = (parsed.error as { issues?: { path: PropertyKey[]; message: string }[] }).issues ?? [];
  const problems = issues.slice(0, 3).map((issue) => {
    const path = issue.path.filter((p) => p !== "params").join(".") || "params";
    return `${path}: ${issue.message.replace(/^Invalid input: /, "")}`;
  });
  return {
    jsonrpc: "2.0",
    id: message.id,
    error: {
      code: ErrorCode.InvalidParams,
      message: `Invalid tools/call params (${problems.join("; ")}). Send { "name": "<tool>", "arguments": { … } }.`,
    },
  };
}

/** Answers malformed tool calls on `transport` before the SDK sees them; everything else passes unchanged. */
export function guardToolCalls(transport: Transport): void {
  const handle = transport.onmessage;
  transport.onmessage = (message, extra) => {
    const refusal = malformedToolCall(message);
    if (refusal) return void transport.send(refusal, { relatedRequestId: refusal.id });
    handle?.(message, extra);
  };
}
