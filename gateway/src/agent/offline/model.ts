import { randomUUID } from "node:crypto";
import {
  type AgentInputItem,
  type Model,
  type ModelRequest,
  type ModelResponse,
  type StreamEvent,
  Usage,
} from "@openai/agents";
import { Temporal } from "temporal-polyfill";
import type { PageContext } from "../contract.ts";
import { type Command, type ListFilter, parseCommand, selectionLines } from "./commands.ts";

export type OfflineContext = { timezone: string; now: Date; page?: PageContext };

type Call = { name: string; args: Record<string, unknown> };
/** What the model does next: call tools (then it is asked again with their results), or answer. */
type Step = { calls: Call[] } | { say: string };

type TaskView = {
  id: string;
  title: string;
  status: string;
  due: { date: string; time: string | null } | null;
};

/** Selections longer than this are confirmed before any task is made. */
const CONFIRM_SELECTION_OVER = 5;
/** Tasks made from one selection at most: a whole page selected is not a to-do list. */
const MAX_SELECTION_TASKS = 20;
const SELECTION_PROMPT = /^Add these (\d+) tasks from your selection\?/;
const HELP =
  "I can add, list, complete, reopen, move, rename, prioritise and delete tasks, and save the page you're on. " +
  "Try “add call mum tomorrow 6pm” or “what's due today?”.";

/**
 * A deterministic command model behind the Agents SDK `Model` interface, for when no model provider is
 * configured. It reads only the user's newest message as a command (page text is data: a title, a source, the
 * lines of a selection), calls the same MCP tools any model would, and answers from their results.
 */
export class OfflineModel implements Model {
  readonly #ctx: OfflineContext;

  constructor(ctx: OfflineContext) {
    this.#ctx = ctx;
  }

  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    const step = this.#decide(request.input);
    const output: ModelResponse["output"] =
      "say" in step
        ? [
            {
              type: "message",
              role: "assistant",
              status: "completed",
              id: `msg_${randomUUID()}`,
              content: [{ type: "output_text", text: step.say }],
            },
          ]
        : step.calls.map((c) => ({
            type: "function_call",
            callId: `call_${randomUUID()}`,
            name: c.name,
            arguments: JSON.stringify(c.args),
            status: "completed",
          }));
    return { usage: new Usage(), output, responseId: `offline_${randomUUID()}` };
  }

  async *getStreamedResponse(request: ModelRequest): AsyncIterable<StreamEvent> {
    const response = await this.getResponse(request);
    yield { type: "response_started" };
    for (const item of response.output) {
      if (item.type === "message" && item.role === "assistant") {
        for (const part of item.content) {
          if (part.type === "output_text") yield { type: "output_text_delta", delta: part.text };
        }
      }
    }
    yield {
      type: "response_done",
      response: {
        id: response.responseId!,
        usage: { requests: 1, inputTokens: 0, outputTokens: 0, totalTokens: 0 },
        // Only assistant messages and function calls, which is what the stream's output may hold.
        output: response.output as Extract<StreamEvent, { type: "response_done" }>["response"]["output"],
      },
    };
  }

  #decide(input: ModelRequest["input"]): Step {
    const items: AgentInputItem[] = typeof input === "string" ? [{ role: "user", content: input }] : input;
    const lastUser = items.findLastIndex((i) => "role" in i && i.role === "user");
    const message = lastUser >= 0 ? textOf(items[lastUser]!) : "";
    const results = items
      .slice(lastUser + 1)
      .flatMap((i) => (i.type === "function_call_result" ? [outputOf(i)] : []));
    const previousAnswer = items
      .slice(0, Math.max(lastUser, 0))
      .findLast((i) => "role" in i && i.role === "assistant");
    return this.#step(parseCommand(message), results, previousAnswer ? textOf(previousAnswer) : "");
  }

  #step(cmd: Command, results: string[], previous: string): Step {
    const page = this.#ctx.page;
    switch (cmd.kind) {
      case "greeting":
        return { say: `Hi! ${HELP}` };
      case "thanks":
        return { say: "You're welcome." };
      case "yes": {
        const pending = previous.match(SELECTION_PROMPT);
        if (!pending) return { say: "There's nothing waiting for a yes. What would you like to do?" };
        const titles = previous
          .split("\n")
          .slice(1)
          .filter((l) => l.startsWith("- "))
          .map((l) => l.slice(2));
        if (results.length) return { say: added(results) };
        return { calls: titles.map((title) => ({ name: "add_task", args: { title, extract_due: true } })) };
      }
      case "no":
        return { say: "OK, I left everything as it was." };
      case "add": {
        if (results.length) return { say: added(results) };
        return {
          calls: cmd.titles.map((title) => ({
            name: "add_task",
            args: { title, extract_due: true, ...(cmd.priority ? { priority: cmd.priority } : {}) },
          })),
        };
      }
      case "save_page": {
        if (!page)
          return { say: "I can't see a page right now. Open the panel on the page you want to save." };
        if (results.length) return { say: added(results) };
        const title = page.title.trim() || page.url;
        return {
          calls: [
            {
              name: "add_task",
              args: {
                title: cmd.action ? `${cmd.action}: ${title}` : title,
                ...(cmd.due ? { due: cmd.due } : {}),
                source: {
                  url: page.url,
                  title: page.title,
                  ...(page.excerpt ? { excerpt: page.excerpt.slice(0, 500) } : {}),
                },
              },
            },
          ],
        };
      }
      case "selection": {
        const all = page?.selection ? selectionLines(page.selection) : [];
        const lines = all.slice(0, MAX_SELECTION_TASKS);
        if (!lines.length) return { say: "Select some lines on the page first, then ask again." };
        if (results.length) return { say: added(results) };
        if (lines.length > CONFIRM_SELECTION_OVER) {
          const cut = all.length > lines.length ? ` (the first ${lines.length} of ${all.length} lines)` : "";
          return {
            say: `Add these ${lines.length} tasks from your selection?${cut}\n${lines.map((l) => `- ${l}`).join("\n")}\nSay yes to add them.`,
          };
        }
        return { calls: lines.map((title) => ({ name: "add_task", args: { title, extract_due: true } })) };
      }
      case "list": {
        if (!results.length) return { calls: [{ name: "list_tasks", args: listArgs(cmd.filter) }] };
        return { say: this.#listed(tasksOf(results[0]!), cmd.filter) };
      }
      case "complete":
      case "reopen":
      case "delete":
      case "reschedule":
      case "rename":
      case "priority":
        return this.#onOne(cmd, results);
      case "delete_all": {
        if (!results.length)
          return { calls: [{ name: "list_tasks", args: { status: "pending", limit: 200 } }] };
        if (results.length === 1) {
          const tasks = tasksOf(results[0]!);
          if (!tasks.length) return { say: "Your list is already empty." };
          return { calls: tasks.map((t) => ({ name: "delete_task", args: { task_id: t.id } })) };
        }
        return { say: "Those tasks need your confirmation before they go to the trash." };
      }
      case "vague":
        return {
          say: "Which task do you mean? Name it by its title, e.g. “complete buy milk”. I change one task at a time.",
        };
      case "unknown":
        return {
          say: `I can only work with your task list here: I can't answer general questions or look things up (like the weather). ${HELP}`,
        };
    }
  }

  /** Find one task by title, then act on it; asks which when several match, says so when none does. */
  #onOne(
    cmd: Extract<Command, { kind: "complete" | "reopen" | "delete" | "reschedule" | "rename" | "priority" }>,
    results: string[],
  ): Step {
    const status = cmd.kind === "reopen" ? "completed" : "pending";
    if (!results.length)
      return { calls: [{ name: "list_tasks", args: { status, query: cmd.target, limit: 20 } }] };
    if (results.length === 1) {
      const found = tasksOf(results[0]!);
      const wanted = cmd.target.toLowerCase();
      const exact = found.filter((t) => t.title.toLowerCase() === wanted);
      const matches = exact.length ? exact : found;
      if (!matches.length) {
        const where = cmd.kind === "reopen" ? "completed tasks" : "open tasks";
        return { say: `I couldn't find “${cmd.target}” among your ${where}.` };
      }
      if (matches.length > 1) {
        return {
          say: `Which one? ${matches
            .slice(0, 5)
            .map((t) => `“${t.title}”${t.due ? ` (due ${when(t)})` : ""}`)
            .join(", ")}. Say it with the full title.`,
        };
      }
      const id = matches[0]!.id;
      switch (cmd.kind) {
        case "complete":
          return { calls: [{ name: "complete_task", args: { task_id: id } }] };
        case "reopen":
          return { calls: [{ name: "reopen_task", args: { task_id: id } }] };
        case "delete":
          return { calls: [{ name: "delete_task", args: { task_id: id } }] };
        case "reschedule":
          return { calls: [{ name: "update_task", args: { task_id: id, due: cmd.due } }] };
        case "rename":
          return { calls: [{ name: "update_task", args: { task_id: id, title: cmd.title } }] };
        case "priority":
          return { calls: [{ name: "update_task", args: { task_id: id, priority: cmd.priority } }] };
      }
    }
    if (cmd.kind === "delete") {
      const task = tasksOf(results[0]!).find((t) => t.title.toLowerCase() === cmd.target.toLowerCase());
      return { say: `“${task?.title ?? cmd.target}” goes to the trash.` };
    }
    return { say: firstLine(results.at(-1)!) };
  }

  #listed(tasks: TaskView[], filter: ListFilter): string {
    const today = Temporal.Instant.fromEpochMilliseconds(this.#ctx.now.getTime())
      .toZonedDateTimeISO(this.#ctx.timezone)
      .toPlainDate();
    const inWindow = (t: TaskView) => {
      if (!filter.window) return true;
      if (!t.due) return false;
      const date = Temporal.PlainDate.from(t.due.date);
      if (filter.window === "tomorrow") return date.equals(today.add({ days: 1 }));
      return (
        Temporal.PlainDate.compare(date, today) >= 0 &&
        Temporal.PlainDate.compare(date, today.add({ days: 6 })) <= 0
      );
    };
    const shown = tasks.filter(inWindow);
    if (!shown.length) return `Nothing ${filter.label === "open" ? "open" : filter.label} right now.`;
    const lines = shown
      .slice(0, 20)
      .map((t) => `- ${t.title}${t.due ? ` (due ${when(t)})` : ""}${t.status === "completed" ? " ✓" : ""}`);
    const more = shown.length > 20 ? `\n…and ${shown.length - 20} more.` : "";
    return `${shown.length} ${filter.label} task${shown.length === 1 ? "" : "s"}:\n${lines.join("\n")}${more}`;
  }
}

function listArgs(filter: ListFilter): Record<string, unknown> {
  return {
    ...(filter.status ? { status: filter.status } : {}),
    ...(filter.due ? { due: filter.due } : {}),
    limit: 100,
  };
}

const when = (t: TaskView) => (t.due ? `${t.due.date}${t.due.time ? ` ${t.due.time}` : ""}` : "");

function firstLine(text: string): string {
  return text
    .split("\n")[0]!
    .replace(/\s*\b[0-9a-f]{8}\b\s*/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/** The answer after adds: what each add_task said, ids left out. */
function added(results: string[]): string {
  return results.map(firstLine).join("\n");
}

function textOf(item: AgentInputItem): string {
  const content = (item as { content?: unknown }).content;
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((c: { text?: string }) => c.text ?? "").join("");
}

function outputOf(item: AgentInputItem): string {
  const output = (item as { output?: unknown }).output;
  if (typeof output === "string") return output;
  if (output && typeof output === "object" && "text" in output)
    return String((output as { text: unknown }).text);
  if (Array.isArray(output)) return output.map((o: { text?: string }) => o.text ?? "").join("");
  return "";
}

/**
 * The tasks in a list_tasks text. The model reads what any model reads: the tool's text lines
 * (`- 1a2b3c4d "Title" · due 2026-11-29 17:00 · …`), where the short id is what tools accept.
 */
function tasksOf(text: string): TaskView[] {
  return text.split("\n").flatMap((line) => {
    const m = line.match(/^- ([0-9a-f]{8}) "(.*)"((?: · .*)?)$/);
    if (!m) return [];
    const rest = m[3] ?? "";
    const due = rest.match(/due (\d{4}-\d{2}-\d{2})(?: (\d{2}:\d{2}))?/);
    return [
      {
        id: m[1]!,
        title: m[2]!.replace(/…$/, ""),
        status: / · done\b/.test(rest) ? "completed" : "pending",
        due: due ? { date: due[1]!, time: due[2] ?? null } : null,
      },
    ];
  });
}
