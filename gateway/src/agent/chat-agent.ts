import { randomUUID } from "node:crypto";
import {
  Agent,
  type AgentInputItem,
  MaxTurnsExceededError,
  type Model,
  ModelBehaviorError,
  Runner,
  ToolCallError,
} from "@openai/agents";
import { APIConnectionError, APIError } from "openai";
import type { Logger } from "../logger.ts";
import type { McpTool } from "../task-service/client.ts";
import { TaskServiceError } from "../task-service/errors.ts";
import { asksForChange, asksToDelete, isBulkRequest, readConfirmationReply } from "./confirmation.ts";
import {
  type AgentEvent,
  AgentTurnError,
  type AgentUser,
  type ChatAgent,
  type PendingConfirmation,
  type TurnInput,
} from "./contract.ts";
import { instructionsFor } from "./instructions.ts";
import type { ModelSource } from "./providers.ts";
import type { TaskTools } from "./stdio-tools.ts";
import { startedLabel } from "./summaries.ts";
import {
  BULK_HELD_TOOLS,
  callTool,
  functionTools,
  HELD_TOOLS,
  type HeldCall,
  rememberTitles,
  type TurnState,
} from "./tools.ts";

export type ChatAgentOptions = {
  /** The configured provider's models (providers.ts), or one SDK model for every turn (tests, benchmarks). */
  models: ModelSource | { provider: string; model: Model; modelName?: string };
  /** The MCP server's tools: the gateway's shared client (a token per user), or a stdio server (stdio-tools.ts). */
  tasks: TaskTools;
  logger: Logger;
  /** The one user the tools serve (a stdio MCP server runs as one account): every other user's turn is refused. */
  onlyUser?: string;
  /** Model calls per turn at most (each tool round is one). */
  maxTurns?: number;
  now?: () => Date;
};

const MAX_TURNS = 8;

/**
 * The chat agent: one Agents SDK run per turn, with the MCP server's tools called as the turn's verified user.
 * Deletes wait for the end of the turn: one runs then, more than one (or a request like "delete everything")
 * becomes a confirmation the user answers in a later message.
 */
export function createChatAgent(opts: ChatAgentOptions): ChatAgent {
  const source: ModelSource =
    "modelFor" in opts.models
      ? opts.models
      : {
          provider: opts.models.provider,
          model: opts.models.modelName ?? "scripted",
          modelFor: () => (opts.models as { model: Model }).model,
          settings: { parallelToolCalls: false },
        };
  const runner = new Runner({ tracingDisabled: source.tracing !== true });
  const now = opts.now ?? (() => new Date());
  const log = opts.logger.child({ component: "agent", provider: source.provider });
  let toolDefs: Promise<McpTool[]> | undefined;

  // Listed once, as the first user to chat: the list is the same for everyone.
  const tools = (user: AgentUser) => {
    toolDefs ??= opts.tasks.listTools(user).catch((err) => {
      toolDefs = undefined;
      throw err;
    });
    return toolDefs.then((defs) => ({ defs, fns: functionTools(defs, opts.tasks) }));
  };
  let builtTools: ReturnType<typeof functionTools> | undefined;

  function servesUser(user: AgentUser) {
    if (opts.onlyUser !== undefined && user.id !== opts.onlyUser) {
      throw new AgentTurnError(
        "Chat here works for one account only: this server takes its task tools from a single-user MCP server (AGENT_MCP_STDIO). Ask its operator.",
        false,
      );
    }
  }

  async function* heldCalls(state: TurnState, input: TurnInput): AsyncIterable<AgentEvent> {
    const held = state.held;
    if (held.length === 0) return;
    // One change runs when the user's own words asked for a change; a delete only when they asked for one,
    // and not for "everything". Anything else (several changes, or a change only a page asked for) asks first.
    const [only] = held;
    const runs =
      state.asked &&
      held.length === 1 &&
      (only!.tool !== "delete_task" || (asksToDelete(input.message) && !isBulkRequest(input.message)));
    if (runs) {
      yield* execute(state, held);
      return;
    }
    await lookUpTitles(state, held);
    yield { type: "confirmation.required", confirmation: confirmationFor(state, held) };
  }

  /** Titles for held calls on tasks this turn did not read (ids from earlier turns), so the user sees names. */
  async function lookUpTitles(state: TurnState, held: HeldCall[]) {
    const known = (c: HeldCall) => {
      const id = typeof c.args.task_id === "string" ? c.args.task_id : "";
      return state.titles.has(id) || state.titles.has(id.slice(0, 8));
    };
    if (held.every(known)) return;
    const listed = await opts.tasks
      .call(state.user, "list_tasks", { status: "all", limit: 200 }, state.signal)
      .catch(() => undefined);
    if (!listed?.isError) rememberTitles(state, listed?.structuredContent);
  }

  async function* execute(state: TurnState, calls: HeldCall[]): AsyncIterable<AgentEvent> {
    const defs = await toolDefs;
    for (const call of calls) {
      const readOnly = defs?.find((d) => d.name === call.tool)?.annotations?.readOnlyHint === true;
      yield {
        type: "tool.started",
        callId: call.callId,
        tool: call.tool,
        args: call.args,
        label: startedLabel(call.tool, call.args),
      };
      const { ok, summary, structured, wrote } = await callTool(
        opts.tasks,
        state,
        call.tool,
        call.args,
        readOnly,
      ).catch(failTurn);
      // Only the contract's fields: the tool's text is written for the model ("Tell the user…"), not the UI.
      yield {
        type: "tool.finished",
        callId: call.callId,
        tool: call.tool,
        args: call.args,
        ok,
        summary,
        structured,
        wrote,
      };
    }
  }

  return {
    provider: source.provider,
    model: source.model,

    async *runTurn(input) {
      servesUser(input.user);
      const state: TurnState = {
        user: input.user,
        signal: input.signal,
        outcomes: new Map(),
        held: [],
        titles: new Map(),
        bulk: isBulkRequest(input.message),
        asked: asksForChange(input.message),
        message: input.message,
        stored: input.stored,
      };
      const at = now();
      let fns: ReturnType<typeof functionTools>;
      try {
        fns = builtTools ??= (await tools(input.user)).fns;
      } catch (err) {
        failTurn(err);
      }
      const agent = new Agent<TurnState>({
        name: "Margin",
        instructions: instructionsFor({ timezone: input.user.timezone, now: at, page: input.page }),
        model: source.modelFor({
          timezone: input.user.timezone,
          now: at,
          page: input.page,
          locale: input.locale,
        }),
        modelSettings: source.settings,
        tools: fns,
      });
      const items: AgentInputItem[] = [...input.history, { role: "user", content: input.message }];
      let text = "";
      // Each finished event repeats its call's arguments (the tool output item carries none).
      const argsOf = new Map<string, Record<string, unknown>>();
      try {
        const result = await runner.run(agent, items, {
          stream: true,
          context: state,
          signal: input.signal,
          maxTurns: opts.maxTurns ?? MAX_TURNS,
        });
        for await (const event of result) {
          if (event.type === "raw_model_stream_event") {
            if (event.data.type === "output_text_delta" && event.data.delta) {
              text += event.data.delta;
              yield { type: "text.delta", delta: event.data.delta };
            }
            continue;
          }
          if (event.type !== "run_item_stream_event") continue;
          const raw = event.item.rawItem as {
            type?: string;
            callId?: string;
            name?: string;
            arguments?: string;
          };
          if (event.name === "message_output_created") {
            const full = messageText(event.item.rawItem);
            if (full || text) yield { type: "text.done", text: full || text };
            text = "";
          } else if (event.name === "tool_called" && raw.type === "function_call" && raw.callId) {
            // Held calls show when they run (or in the confirmation), not when the model asks for them.
            if (HELD_TOOLS.has(raw.name!) || (state.bulk && BULK_HELD_TOOLS.has(raw.name!))) continue;
            const args = parseArgs(raw.arguments);
            argsOf.set(raw.callId, args);
            yield {
              type: "tool.started",
              callId: raw.callId,
              tool: raw.name!,
              args,
              label: startedLabel(raw.name!, args),
            };
          } else if (event.name === "tool_output" && raw.callId) {
            const outcome = state.outcomes.get(raw.callId);
            if (!outcome || outcome.held) continue;
            yield {
              type: "tool.finished",
              callId: raw.callId,
              tool: raw.name ?? "tool",
              args: argsOf.get(raw.callId) ?? {},
              ok: outcome.ok,
              summary: outcome.summary,
              structured: outcome.structured,
              wrote: outcome.wrote,
            };
          }
        }
        await result.completed;
      } catch (err) {
        if (input.signal.aborted) return;
        failTurn(err);
      }
      if (text) yield { type: "text.done", text };
      if (!input.signal.aborted) yield* heldCalls(state, input);
    },

    async *runConfirmed({ user, confirmation, signal }) {
      servesUser(user);
      const state: TurnState = {
        user,
        signal,
        outcomes: new Map(),
        held: [],
        titles: new Map(),
        bulk: false,
        // The user confirmed these very calls.
        asked: true,
      };
      await tools(user).catch(failTurn);
      yield* execute(
        state,
        confirmation.calls.map((c, i) => ({ callId: `${confirmation.id}-${i}`, tool: c.tool, args: c.args })),
      );
    },

    readConfirmationReply,

    async close() {
      log.debug("agent closed");
    },
  };
}

/** What a held call does, for the confirmation: "Mark done", or for an update what it changes. */
function changeOf(call: HeldCall): string {
  const a = call.args;
  switch (call.tool) {
    case "add_task":
      return "add";
    case "delete_task":
      return "move to the trash";
    case "complete_task":
      return "mark done";
    case "reopen_task":
      return "reopen";
    default: {
      const parts = [
        typeof a.title === "string" ? `rename to '${a.title}'` : "",
        a.due === null ? "clear the due date" : typeof a.due === "string" ? `move to ${a.due}` : "",
        typeof a.priority === "string" ? `set ${a.priority} priority` : "",
      ].filter(Boolean);
      return parts.join(", ") || "change";
    }
  }
}

function confirmationFor(state: TurnState, held: HeldCall[]): PendingConfirmation {
  const named = held.map((c) => {
    const id = typeof c.args.task_id === "string" ? c.args.task_id : "";
    const title =
      c.tool === "add_task" && typeof c.args.title === "string"
        ? c.args.title
        : (state.titles.get(id) ?? state.titles.get(id.slice(0, 8)));
    return { call: c, name: title ? `'${title}'` : `task ${id.slice(0, 8)}`, change: changeOf(c) };
  });
  // One kind of change says it once ("Mark 3 tasks done: …"); a mix says it per task.
  const same = named.every((n) => n.change === named[0]!.change);
  const calls = named.map((n) => ({
    tool: n.call.tool,
    args: n.call.args,
    label: same ? n.name : `${n.name}: ${n.change}`,
  }));
  const names = calls.map((c) => c.label);
  const shown =
    names.length > 5 ? `${names.slice(0, 5).join(", ")} and ${names.length - 5} more` : names.join(", ");
  const count = `${calls.length} task${calls.length === 1 ? "" : "s"}`;
  const fixed: Record<string, string> = {
    add: `Add ${count}`,
    "move to the trash": `Move ${count} to the trash`,
    "mark done": `Mark ${count} done`,
    reopen: `Reopen ${count}`,
  };
  const what = same
    ? (fixed[named[0]!.change] ?? `Change ${count} (${named[0]!.change})`)
    : `Change ${count}`;
  const prompt = `${what}: ${shown}?`;
  return { id: randomUUID(), prompt, calls };
}

/** Whether `type` is in the error's chain: `cause`, or the SDK's ToolCallError, which keeps the tool's own
 * error in `error`. */
function causedBy(err: unknown, type: new (...args: never[]) => Error): boolean {
  for (let e = err, depth = 0; e && depth < 5; depth++) {
    if (e instanceof type) return true;
    e = e instanceof ToolCallError ? e.error : (e as { cause?: unknown }).cause;
  }
  return false;
}

function parseArgs(json: string | undefined): Record<string, unknown> {
  try {
    const value = JSON.parse(json ?? "{}");
    return value && typeof value === "object" ? value : {};
  } catch {
    return {};
  }
}

function messageText(raw: unknown): string {
  const content = (raw as { content?: { type?: string; text?: string }[] }).content ?? [];
  return content
    .filter((c) => c.type === "output_text")
    .map((c) => c.text ?? "")
    .join("");
}

/** Any failure of a turn, in words a user understands; `retryable` says whether trying again may help. */
export function failTurn(err: unknown): never {
  if (err instanceof AgentTurnError) throw err;
  if (causedBy(err, TaskServiceError)) {
    throw new AgentTurnError(
      "Your task list can't be reached right now, so nothing was changed. Try again shortly.",
      true,
      {
        cause: err,
      },
    );
  }
  if (err instanceof MaxTurnsExceededError) {
    throw new AgentTurnError(
      "That took too many steps, so I stopped. Try asking for one thing at a time.",
      true,
      {
        cause: err,
      },
    );
  }
  if (err instanceof APIConnectionError) {
    throw new AgentTurnError("The model provider can't be reached right now. Try again shortly.", true, {
      cause: err,
    });
  }
  if (err instanceof APIError) {
    const status = err.status ?? 0;
    if (status === 429)
      throw new AgentTurnError(
        "The model provider is busy right now (rate limited). Try again in a minute.",
        true,
        { cause: err },
      );
    if (status === 401 || status === 403)
      throw new AgentTurnError(
        "The model provider refused the configured API key. Ask the operator to check it.",
        false,
        { cause: err },
      );
    if (status >= 500)
      throw new AgentTurnError("The model provider failed to answer. Try again shortly.", true, {
        cause: err,
      });
    throw new AgentTurnError("The model provider refused the request.", false, { cause: err });
  }
  if (err instanceof ModelBehaviorError) {
    throw new AgentTurnError("The model gave an answer I couldn't use. Try again.", true, { cause: err });
  }
  throw new AgentTurnError("Something went wrong with this answer. Try again.", true, { cause: err });
}
