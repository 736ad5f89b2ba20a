import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { type AnySchema, objectFromShape } from "@modelcontextprotocol/sdk/server/zod-compat.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { CallToolResult, ServerNotification, ServerRequest } from "@modelcontextprotocol/sdk/types.js";
import type { z } from "zod";
import { isDatabaseUnavailable } from "../db/errors.ts";
import { dayBounds, localParts } from "../tasks/due.ts";
import { TaskError } from "../tasks/errors.ts";
import { SHORT_ID_LENGTH, type UserTasks } from "../tasks/repository.ts";
import type { TaskView } from "../tasks/view.ts";

export type ToolContext = { tasks: UserTasks };
export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

type Shape = z.ZodRawShape;

/** One MCP tool: a plain object, independent of transport, so it runs in-process, over HTTP and over stdio. */
export type ToolDefinition<I extends Shape = Shape, O extends Shape = Shape> = {
  name: string;
  title: string;
  description: string;
  inputSchema: I;
  outputSchema: O;
  annotations: {
    readOnlyHint: boolean;
    destructiveHint: boolean;
    idempotentHint: boolean;
    openWorldHint: false;
  };
  execute(
    args: z.infer<z.ZodObject<I>>,
    ctx: ToolContext,
  ): Promise<{ text: string; structured: z.infer<z.ZodObject<O>> }>;
};

export function defineTool<I extends Shape, O extends Shape>(
  tool: ToolDefinition<I, O>,
): ToolDefinition<I, O> {
  return tool;
}

export type ToolFailureLogger = (err: unknown, tool: string) => void;

/**
 * The tool's input and output shapes as the object schemas the SDK would build from them, built once. Given a
 * raw shape, the SDK makes a new object schema in every `registerTool`, i.e. per stateless request, and zod then
 * re-derives its parser on that schema's first (and only) parse. Same function, same schemas, built once.
 */
const objectSchemas = new WeakMap<ToolDefinition, { input: AnySchema; output: AnySchema }>();
export function toolSchemas(tool: ToolDefinition): { input: AnySchema; output: AnySchema } {
  let schemas = objectSchemas.get(tool);
  if (!schemas) {
    schemas = { input: objectFromShape(tool.inputSchema), output: objectFromShape(tool.outputSchema) };
    objectSchemas.set(tool, schemas);
  }
  return schemas;
}

/** Adapts a tool to the SDK: user mistakes become `isError` results that say what to fix; faults are logged. */
export function registerTool(
  server: McpServer,
  tool: ToolDefinition,
  resolveTasks: (extra: ToolExtra) => UserTasks,
  onFault: ToolFailureLogger,
) {
  const schemas = toolSchemas(tool);
  server.registerTool(
    tool.name,
    {
      title: tool.title,
      description: tool.description,
      inputSchema: schemas.input,
      outputSchema: schemas.output,
      annotations: tool.annotations,
    },
    (args: Record<string, unknown>, extra: ToolExtra) =>
      runTool(tool, args, () => resolveTasks(extra), onFault),
  );
}

/** Runs a tool on validated arguments: user mistakes become `isError` results that say what to fix. */
export async function runTool(
  tool: ToolDefinition,
  args: Record<string, unknown>,
  resolveTasks: () => UserTasks,
  onFault: ToolFailureLogger,
): Promise<CallToolResult> {
  try {
    const result = await tool.execute(args as never, { tasks: resolveTasks() });
    return { content: [{ type: "text", text: result.text }], structuredContent: result.structured };
  } catch (err) {
    if (err instanceof TaskError) return toolError(err.code, err.message);
    if (isAccountGone(err)) return toolError("account_deleted", ACCOUNT_GONE_MESSAGE);
    onFault(err, tool.name);
    // The database dropped the call (a restart, a failover): the caller should retry, not give up.
    if (isDatabaseUnavailable(err)) {
      return toolError("unavailable", "The task database is unavailable for a moment. Try again shortly.");
    }
    return toolError("internal", "The task service failed on this call. Try again in a moment.");
  }
}

export const ACCOUNT_GONE_MESSAGE =
  "This account no longer exists: it was deleted. Sign in again, or connect with another account.";

/**
 * A write for a user whose account was deleted after its token was issued (MCP tokens live for minutes): every
 * row of a user references "user" (foreign keys named `<table>_user_id_user_id_fk`), so the insert fails with
 * a foreign-key violation on one of them. That is the caller's lost account, not a fault of the service.
 */
export function isAccountGone(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const { code, constraint, constraint_name } = e as {
      code?: unknown;
      constraint?: unknown;
      constraint_name?: unknown;
    };
    // postgres.js names the constraint `constraint_name`, PGlite `constraint`.
    const name = constraint_name ?? constraint;
    if (code === "23503" && typeof name === "string" && name.endsWith("_user_id_user_id_fk")) return true;
  }
  return false;
}

function toolError(code: string, message: string): CallToolResult {
  return {
    isError: true,
    content: [{ type: "text", text: message }],
    structuredContent: { error: { code, message } },
  };
}

const TITLE_IN_TEXT = 80;

/**
 * One line per task for tool texts, compact (a model reads every line of every list): the short id tools accept,
 * the title (clipped; the full one is in structuredContent), and only what differs from a plain pending task.
 * Dates and times are in the user's zone, which the text names once (see `zoneNote`).
 */
export function describeTask(task: TaskView): string {
  const title = task.title.length > TITLE_IN_TEXT ? `${task.title.slice(0, TITLE_IN_TEXT - 1)}…` : task.title;
  const parts = [`${task.id.slice(0, SHORT_ID_LENGTH)} "${title}"`];
  if (task.status !== "pending") parts.push(task.status === "completed" ? "done" : "in trash");
  if (task.due) {
    const when = task.due.time ? `${task.due.date} ${task.due.time}` : task.due.date;
    parts.push(`due ${when}${task.due.repeat ? `, repeats ${task.due.repeat}` : ""}`);
  }
  if (task.priority !== "medium") parts.push(task.priority);
  if (task.labels.length) parts.push(task.labels.map((l) => `#${l}`).join(" "));
  return parts.join(" · ");
}

// Each zone's note with the local day it holds for: it changes once a day, and working it out is Temporal work
// (about 15 µs, most of an empty list's own time). Bounded like the zones a process sees: few.
const zoneNotes = new Map<string, { from: number; until: number; text: string }>();

/** Names the user's zone and today's date once per answer, so "today" and the times above are unambiguous. */
export function zoneNote(tasks: UserTasks): string {
  const tz = tasks.owner.tz;
  const now = tasks.clock();
  const kept = zoneNotes.get(tz);
  if (kept && now.getTime() >= kept.from && now.getTime() < kept.until) return kept.text;
  const { date, weekday } = localParts({ at: now, tz });
  const { todayStart, tomorrowStart } = dayBounds(now, tz);
  const text = `Today is ${weekday.slice(0, 3)} ${date}; times are ${tz}.`;
  if (zoneNotes.size >= 1_000) zoneNotes.delete(zoneNotes.keys().next().value!);
  zoneNotes.set(tz, { from: todayStart.getTime(), until: tomorrowStart.getTime(), text });
  return text;
}
