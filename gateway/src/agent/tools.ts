import { type FunctionTool, type RunContext, tool } from "@openai/agents";
import type { McpTool } from "../task-service/client.ts";
import { TaskServiceError } from "../task-service/errors.ts";
import { addsOnlyTyped } from "./confirmation.ts";
import type { AgentUser } from "./contract.ts";
import type { TaskTools } from "./stdio-tools.ts";
import { finishedSummary } from "./summaries.ts";

/** What one tool call did, kept for the turn's events (the model reads only the text). */
export type CallOutcome = {
  ok: boolean;
  text: string;
  structured?: Record<string, unknown>;
  wrote: boolean;
  summary: string;
  /** Held for the end of the turn (deletes); no events until then. */
  held?: boolean;
};

export type HeldCall = { callId: string; tool: string; args: Record<string, unknown> };

/** The per-turn state tools read from the run context: never shared between runs. */
export type TurnState = {
  user: AgentUser;
  signal: AbortSignal;
  outcomes: Map<string, CallOutcome>;
  held: HeldCall[];
  /** Titles of tasks seen in this turn's results, by id and short id, to name held calls. */
  titles: Map<string, string>;
  /** The user asked for a bulk change ("complete all overdue tasks"): changes to tasks wait like deletes. */
  bulk: boolean;
  /** The user's own words ask for a change; when they don't, every write waits for their yes… */
  asked: boolean;
  /** …but an add of only the words of this turn's message, when it is a bare task ("milk"): addsOnlyTyped. */
  message?: string;
  /** The user's message is stored once this settles; tools wait for it (TurnInput.stored). */
  stored?: Promise<unknown>;
};

/** Tools whose calls always wait for the end of the turn, where one may run and several need the user's yes. */
export const HELD_TOOLS = new Set(["delete_task"]);
/** Changes to existing tasks, which also wait in a turn that asks for a bulk change. */
export const BULK_HELD_TOOLS = new Set(["complete_task", "reopen_task", "update_task"]);

const heldText = (tool: string) =>
  tool === "delete_task"
    ? "Queued. The app moves it to the trash when you finish, or asks the user first if several tasks are deleted. " +
      "Do not call delete_task again for it."
    : `Queued. The app makes this change when you finish, or asks the user first if several tasks change. Do not call ${tool} again for it.`;

type ToolParameters = ReturnType<typeof parametersOf>;

/** Drops `$schema` (Gemini rejects it) from a tool's JSON schema. */
function parametersOf(t: McpTool) {
  const { $schema: _, ...schema } = t.inputSchema as Record<string, unknown>;
  return {
    ...schema,
    type: "object" as const,
    properties: (schema.properties ?? {}) as Record<string, never>,
    required: (schema.required ?? []) as string[],
    additionalProperties: true as const,
  };
}

function textOf(result: { content?: unknown }): string {
  const content = Array.isArray(result.content) ? result.content : [];
  return content
    .map((c: { type?: string; text?: string }) => (c.type === "text" ? (c.text ?? "") : ""))
    .join("\n")
    .trim();
}

export function rememberTitles(state: TurnState, structured: Record<string, unknown> | undefined) {
  const tasks = Array.isArray(structured?.tasks)
    ? structured.tasks
    : structured?.task
      ? [structured.task]
      : [];
  for (const t of tasks as { id?: unknown; title?: unknown }[]) {
    if (typeof t.id === "string" && typeof t.title === "string") {
      state.titles.set(t.id, t.title);
      state.titles.set(t.id.slice(0, 8), t.title);
    }
  }
}

/** Runs one MCP tool as the turn's user; a tool error comes back as its words, an outage throws. */
export async function callTool(
  tasks: TaskTools,
  state: TurnState,
  name: string,
  args: Record<string, unknown>,
  readOnly: boolean,
): Promise<CallOutcome> {
  await state.stored;
  const result = await tasks.call(state.user, name, args, state.signal);
  const text = textOf(result) || (result.isError ? "The tool failed." : "Done.");
  const structured = result.isError ? undefined : result.structuredContent;
  rememberTitles(state, structured);
  return {
    ok: !result.isError,
    text,
    structured,
    wrote: !result.isError && !readOnly,
    summary: result.isError ? text : finishedSummary(name, structured, text),
  };
}

/**
 * The MCP server's tools as SDK function tools. Each call goes through the shared task-service client with the
 * turn's own user token (signed per call from the verified user in the run context, never from arguments), so
 * concurrent runs of different users cannot mix, and no turn opens a connection or lists tools.
 */
export function functionTools(
  defs: McpTool[],
  tasks: TaskTools,
): FunctionTool<TurnState, ToolParameters, unknown>[] {
  return defs.map((def) => {
    const readOnly = def.annotations?.readOnlyHint === true;
    return tool({
      name: def.name,
      description: def.description ?? def.name,
      parameters: parametersOf(def),
      strict: false,
      // Outages end the turn with a clear error; tool-level errors are returned as text below.
      errorFunction: null,
      async execute(input, runContext?: RunContext<TurnState>, details?) {
        const state = runContext!.context;
        const args = (input ?? {}) as Record<string, unknown>;
        const callId = details?.toolCall?.callId ?? `${def.name}-${state.outcomes.size}`;
        if (
          HELD_TOOLS.has(def.name) ||
          (state.bulk && BULK_HELD_TOOLS.has(def.name)) ||
          (!readOnly &&
            !state.asked &&
            !(def.name === "add_task" && state.message !== undefined && addsOnlyTyped(state.message, args)))
        ) {
          const text = heldText(def.name);
          state.held.push({ callId, tool: def.name, args });
          state.outcomes.set(callId, { ok: true, text, wrote: false, summary: "", held: true });
          return text;
        }
        try {
          const outcome = await callTool(tasks, state, def.name, args, readOnly);
          state.outcomes.set(callId, outcome);
          return outcome.ok ? outcome.text : `Error: ${outcome.text}`;
        } catch (err) {
          throw err instanceof TaskServiceError ? err : TaskServiceError.from(err);
        }
      },
    });
  });
}
