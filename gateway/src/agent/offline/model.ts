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
import { extractDueFromTitle, localParts, parseDue } from "../../tasks/due.ts";
import type { PageContext } from "../contract.ts";
import {
  type Bulk,
  type Command,
  type Edit,
  type ListFilter,
  ordinalOf,
  ordinalsOf,
  parseCommand,
  selectionLines,
  target,
} from "./commands.ts";

/** `locale`: how the user reads times ("en-US-u-hc-h12"), as the chat's widgets write them. */
export type OfflineContext = { timezone: string; now: Date; page?: PageContext; locale?: string };

type Call = { name: string; args: Record<string, unknown> };
/**
 * The answer before this message, the tasks it showed (in its text, or as the list under it), and the app's
 * notes of that turn's tool calls.
 */
type Previous = { text: string; listed: string[]; notes: string[] };
const NOTHING_BEFORE: Previous = { text: "", listed: [], notes: [] };
/** What the model does next: call tools (then it is asked again with their results), or answer. */
type Step = { calls: Call[] } | { say: string };

type TaskView = {
  id: string;
  title: string;
  status: string;
  priority: "low" | "medium" | "high";
  due: { date: string; time: string | null } | null;
};

/** Selections longer than this are confirmed before any task is made. */
const CONFIRM_SELECTION_OVER = 5;
/** Tasks made from one selection at most: a whole page selected is not a to-do list. */
const MAX_SELECTION_TASKS = 20;
const SELECTION_PROMPT = /^Add these (\d+) tasks from your selection\?/;
/** How the app's notes on earlier tool calls start (chatkit/history.ts), as the model reads them. */
const HIDDEN_NOTES = /^Hidden context for the assistant\b/;
const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const HELP =
  "I can add, list, complete, reopen, move, rename, prioritise and delete tasks, and save the page you're on. " +
  "Try “add call mum tomorrow 6pm” or “what's due today?”.";

const WHICH_TASK =
  "Which task do you mean? Name it by its title, e.g. “complete buy milk”. I change one task at a time.";
/** The answer to "help": what the offline model understands, as things to try. */
const GUIDE = [
  "No AI model is set up here, so I understand plain commands about your tasks. Try:",
  "- add call mum tomorrow 6pm (or several: milk, eggs, bread)",
  "- what's due today? · what's overdue? · search for dentist",
  "- done with call mum · move the dentist to friday · rename it to …",
  "- save this page · make tasks from my selection",
  "- undo",
].join("\n");

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
    const earlier = items.slice(0, Math.max(lastUser, 0));
    const answerAt = earlier.findLastIndex((i) => "role" in i && i.role === "assistant");
    const text = answerAt >= 0 ? textOf(earlier[answerAt]!) : "";
    const previous = {
      text,
      listed: listTitles(text, notesBefore(earlier, answerAt)),
      notes: notesBefore(earlier, earlier.length),
    };
    let cmd = parseCommand(message);
    if (cmd.kind === "pick" || cmd.kind === "also") {
      // "the second one" answers "Which one?", "and bread too" follows a request: the request before, on this task.
      const asked = earlier
        .slice(0, Math.max(answerAt, 0))
        .findLast((i) => "role" in i && i.role === "user" && !HIDDEN_NOTES.test(textOf(i)));
      const before = asked ? parseCommand(textOf(asked)) : undefined;
      cmd =
        before && "target" in before
          ? ({ ...before, target: cmd.target, alternatives: undefined } as Edit)
          : cmd.kind === "also" && before?.kind === "add"
            ? { ...before, titles: [this.#withSameDue(cmd.target, before.titles[0]!)], split: false }
            : { kind: "vague" };
    }
    return this.#step(cmd, results, previous);
  }

  #step(cmd: Command, results: string[], previous: Previous): Step {
    const page = this.#ctx.page;
    switch (cmd.kind) {
      case "greeting":
        return { say: `Hi! ${HELP}` };
      case "thanks":
        return { say: "You're welcome." };
      case "chatter":
        return { say: "Anything to add or change on your list?" };
      case "help":
        return { say: GUIDE };
      case "incomplete": {
        const verb = cmd.verb === "done" ? "complete" : cmd.verb;
        const example =
          verb === "save"
            ? "this page"
            : ["add", "new", "create"].includes(verb)
              ? "call mum tomorrow 6pm"
              : "buy milk";
        return { say: `Which task? Say it with the task, e.g. “${verb} ${example}”.` };
      }
      case "yes": {
        const pending = previous.text.match(SELECTION_PROMPT);
        if (!pending) return { say: "There's nothing waiting for a yes. What would you like to do?" };
        const titles = previous.text
          .split("\n")
          .slice(1)
          .filter((l) => l.startsWith("- "))
          .map((l) => l.slice(2));
        if (results.length) return { say: this.#added(results) };
        return { calls: titles.map((title) => ({ name: "add_task", args: { title, extract_due: true } })) };
      }
      case "no":
        return { say: "OK, I left everything as it was." };
      case "undo":
        return undo(previous.notes, results, (r) => this.#said(r));
      case "add": {
        if (results.length && cmd.split) {
          return {
            say: `I added these as ${results.length} separate tasks (put the words in quotes to keep them as one task):\n${this.#added(results)}`,
          };
        }
        if (results.length) return { say: this.#added(results) };
        return {
          calls: cmd.titles.map((title) => ({
            name: "add_task",
            args: {
              title,
              extract_due: true,
              ...(cmd.priority ? { priority: cmd.priority } : {}),
              ...(cmd.labels ? { labels: cmd.labels } : {}),
            },
          })),
        };
      }
      case "save_page": {
        if (!page)
          return { say: "I can't see a page right now. Open the panel on the page you want to save." };
        if (results.length) return { say: this.#added(results) };
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
        if (results.length) return { say: this.#added(results) };
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
      case "restore":
      case "delete":
      case "reschedule":
      case "rename":
      case "shift":
      case "priority":
        return this.#onOne(cmd, results, previous);
      case "bulk":
        return this.#bulk(cmd, results, previous);
      case "vague":
        // "rename it to …" right after an answer about one task ("Added “x”") means that task.
        if (cmd.edit && previous.listed.length === 1)
          return this.#onOne(
            { ...cmd.edit, target: previous.listed[0]!, alternatives: undefined } as Edit,
            results,
            NOTHING_BEFORE,
          );
        return { say: WHICH_TASK };
      case "pick":
      case "also":
        return { say: WHICH_TASK };
      case "unknown":
        return {
          say: `I can only work with your task list here: I can't answer general questions or look things up (like the weather). ${HELP}`,
        };
    }
  }

  /**
   * Find one task by title (or by its place in the previous answer's list), then act on it; asks which when
   * several match, says so when none does.
   */
  #onOne(cmd: Edit, results: string[], previous: Previous): Step {
    const places = ordinalsOf(cmd.target);
    if (places) {
      // "complete the first two": those rows of the previous answer's list, each by its title.
      const listed = previous.listed;
      const titles = places.map((p) => (p < 0 ? listed.at(p) : listed[p - 1]));
      if (!listed.length || titles.some((t) => t === undefined))
        return { say: `The last list had ${listed.length} task${listed.length === 1 ? "" : "s"}.` };
      if (!results.length)
        return { calls: [{ name: "list_tasks", args: { status: statusOf(cmd), limit: 200 } }] };
      return (
        this.#several(cmd, titles as string[], tasksOf(results[0]!), results.slice(1)) ?? { say: WHICH_TASK }
      );
    }
    const place = ordinalOf(cmd.target);
    if (place !== undefined) {
      const listed = previous.listed;
      if (!listed.length)
        return { say: "Which task do you mean? Name it by its title, or ask for a list first." };
      const title = place === -1 ? listed.at(-1) : listed[place - 1];
      if (!title) return { say: `The last list had ${listed.length} task${listed.length === 1 ? "" : "s"}.` };
      return this.#onOne({ ...cmd, target: title, alternatives: undefined } as Edit, results, NOTHING_BEFORE);
    }
    const options: Edit[] = "alternatives" in cmd && cmd.alternatives ? cmd.alternatives : [cmd];
    // The shortest task of the cuts is in every longer one, so one search finds them all.
    const search = options.reduce((a, b) => (b.target.length < a.target.length ? b : a)).target;
    const status = statusOf(cmd);
    if (!results.length)
      return { calls: [{ name: "list_tasks", args: { status, query: search, limit: 50 } }] };
    let picked = pick(cmd, options, tasksOf(results[0]!), this.#today());
    // The words in another order or form ("the plumber call", "emailing Sarah"): look through the whole list.
    let searches = 1;
    if ("none" in picked) {
      if (results.length === 1) return { calls: [{ name: "list_tasks", args: { status, limit: 200 } }] };
      picked = pick(cmd, options, tasksOf(results[1]!), this.#today());
      searches = 2;
      if ("none" in picked) {
        const parts = cmd.target
          .split(/\s*,\s*(?:and\s+)?|\s+(?:and|&)\s+/i)
          .map(target)
          .filter(Boolean);
        return this.#several(cmd, parts, tasksOf(results[1]!), results.slice(2)) ?? picked;
      }
    }
    if ("say" in picked) return picked;
    const { edit, task } = picked;
    if (results.length === searches) return { calls: [callFor(edit, task, this.#clock())] };
    const said = this.#said(results.at(-1)!);
    // Held by the app until the end of the turn (a delete, or a change in a turn that sounds like a bulk one).
    if (said.startsWith("Queued")) return { say: willDo(edit, task) };
    if (edit.kind === "shift" && !task.due)
      return { say: `${said} It had no due date, so I counted from today.` };
    return { say: said };
  }

  /** The same change to several tasks: listed first, then one call each; the app asks before more than one. */
  #bulk(cmd: Bulk, results: string[], previous: Previous): Step {
    const listed = cmd.listed === "no" ? [] : previous.listed;
    if (cmd.listed === "required" && !listed.length)
      return { say: "Which tasks do you mean? Ask for a list first, or name them by their titles." };
    const byList = listed.length > 0;
    const change = cmd.change;
    if (!results.length) {
      const args = byList
        ? { status: statusOf(change), limit: 200 }
        : { ...listArgs(cmd.filter), limit: 200 };
      return { calls: [{ name: "list_tasks", args }] };
    }
    const wanted = new Set(listed.map((t) => t.toLowerCase()));
    const tasks = tasksOf(results[0]!).filter((t) =>
      byList ? wanted.has(t.title.toLowerCase()) : this.#inWindow(t, cmd.filter),
    );
    if (results.length === 1) {
      if (!tasks.length) {
        const label = cmd.filter.label;
        if (byList) return { say: "None of those tasks are there to change any more." };
        return {
          say: label.startsWith("due") ? `You have no tasks ${label}.` : `You have no ${label} tasks.`,
        };
      }
      return { calls: tasks.map((t) => callFor(change, t, this.#clock())) };
    }
    // The app runs a single change at the end of the turn, and asks first for more (or for any bulk delete).
    return this.#afterSeveral(results.slice(1), change, tasks, change.kind === "delete");
  }

  /**
   * The same change to several tasks, each named by `parts` ("complete milk and stretch", when no title holds
   * the words; "the first two" of a list), once every part names exactly one; else what is wrong with the first
   * that doesn't.
   */
  #several(cmd: Edit, parts: string[], found: TaskView[], done: string[]): Step | undefined {
    if (cmd.kind === "rename" || parts.length < 2) return undefined;
    const tasks: TaskView[] = [];
    for (const part of parts) {
      const edit = { ...cmd, target: part, alternatives: undefined } as Edit;
      const picked = pick(edit, [edit], found, this.#today());
      if ("say" in picked) return picked;
      if (!tasks.includes(picked.task)) tasks.push(picked.task);
    }
    if (!done.length) return { calls: tasks.map((t) => callFor(cmd, t, this.#clock())) };
    return this.#afterSeveral(done, cmd, tasks, false);
  }

  /** The answer once the same change went to several tasks: what each did, or that the app holds them. */
  #afterSeveral(done: string[], change: Bulk["change"] | Edit, tasks: TaskView[], confirmOne: boolean): Step {
    const held = done.filter((r) => r.startsWith("Queued")).length;
    if (held === 0) return { say: this.#added(done) };
    if (held > 1 || confirmOne)
      return { say: `${held === 1 ? "That task waits" : `These ${held} tasks wait`} for your confirmation.` };
    const heldTask = tasks[done.findIndex((r) => r.startsWith("Queued"))];
    return { say: heldTask ? willDo(change as Edit, heldTask) : this.#added(done) };
  }

  /** The answer after writes: what each tool said, as the user reads it. */
  #added(results: string[]): string {
    return results.map((r) => this.#said(r)).join("\n");
  }

  /**
   * A tool's answer as the user reads it: its first line without ids or what is meant for the model (today's
   * date and zone, tool names, "Tell the user…"), dates in words and times as the chat's widgets write them.
   */
  #said(text: string): string {
    const today = this.#today();
    const time = new Intl.DateTimeFormat(this.#ctx.locale ?? "en-GB", {
      hour: "numeric",
      minute: "2-digit",
      timeZone: "UTC",
    });
    const plain = text
      .split("\n")[0]!
      .replace(/\s*\b[0-9a-f]{8}\b\s*/g, " ")
      // "Completed “x” · done": the verb says it already.
      .replace(/ · (?:done|in trash)\b/g, "")
      .replace(
        / ?(?:Today is [^;]*; times are [^.]*|Took "[^"]*" from the title as the due|Tell the user [^.]*|[^.]*\b[a-z]+_task\b[^.]*)\./g,
        "",
      );
    // Titles (in quotes) stay as typed; the words around them get human dates and times.
    return plain
      .split(/("[^"]*")/)
      .map((part, i) =>
        i % 2
          ? `“${part.slice(1, -1)}”`
          : part
              .replace(/\b\d{4}-\d{2}-\d{2}\b/g, (date) => dayOf(date, today))
              .replace(/\b(\d{1,2}):(\d{2})\b/g, (_, h: string, m: string) =>
                time.format(Date.UTC(2000, 0, 1, Number(h), Number(m))),
              ),
      )
      .join("")
      .replace(/\s+/g, " ")
      .trim();
  }

  /** "bread" after "add milk tomorrow": the other task, due as the first. */
  #withSameDue(title: string, first: string): string {
    const found = extractDueFromTitle(first, { now: this.#ctx.now, tz: this.#ctx.timezone });
    return found ? `${title} ${found.due.phrase}` : title;
  }

  #clock(): Clock {
    return { now: this.#ctx.now, tz: this.#ctx.timezone, today: this.#today() };
  }

  #today(): Temporal.PlainDate {
    return Temporal.Instant.fromEpochMilliseconds(this.#ctx.now.getTime())
      .toZonedDateTimeISO(this.#ctx.timezone)
      .toPlainDate();
  }

  /** The local date a day phrase ("friday", "dec 12") names for this user; "" when it names none. */
  #dayOf(phrase: string): string {
    try {
      return localParts(parseDue(phrase, { now: this.#ctx.now, tz: this.#ctx.timezone })).date;
    } catch {
      return "";
    }
  }

  #inWindow(t: TaskView, filter: ListFilter): boolean {
    if (filter.priority && t.priority !== filter.priority) return false;
    if (!filter.window) return true;
    if (!t.due) return false;
    const today = this.#today();
    const date = Temporal.PlainDate.from(t.due.date);
    if (filter.window === "tomorrow") return date.equals(today.add({ days: 1 }));
    if (typeof filter.window === "object") return t.due.date === this.#dayOf(filter.window.day);
    // "this week": the next seven days; "next week": Monday to Sunday after this one; "weekend": the coming
    // Saturday and Sunday (what is left of them on a weekend).
    const [from, days] =
      filter.window === "next week"
        ? [today.add({ days: 8 - today.dayOfWeek }), 6]
        : filter.window === "weekend"
          ? [
              today.dayOfWeek >= 6 ? today : today.add({ days: 6 - today.dayOfWeek }),
              7 - Math.max(today.dayOfWeek, 6),
            ]
          : [today, 6];
    return (
      Temporal.PlainDate.compare(date, from) >= 0 && Temporal.PlainDate.compare(date, from.add({ days })) <= 0
    );
  }

  /**
   * The words above a listing. The list itself shows as the task-list widget under the answer, so the text only
   * counts ("7 open tasks, 1 overdue, 2 due today"); a window the tool can't filter by ("tomorrow", "this week")
   * names its tasks, as the widget shows more than that.
   */
  #listed(tasks: TaskView[], filter: ListFilter): string {
    const shown = tasks.filter((t) => this.#inWindow(t, filter));
    const label = filter.label;
    // "high priority" said with another filter: "1 high priority task due today".
    const priority = filter.priority && !label.endsWith("priority") ? `${filter.priority} priority ` : "";
    if (!shown.length)
      return label === "deleted" ? "The trash is empty." : `Nothing ${priority}${label} right now.`;
    const tasksWord = shown.length === 1 ? "task" : "tasks";
    const head = /^(?:due|matching)\b/.test(label)
      ? `${shown.length} ${priority}${tasksWord} ${label}`
      : `${shown.length} ${priority}${label === "all" ? "" : `${label} `}${tasksWord}`;
    // The list under the answer shows every task the tool found: name the ones a narrower filter keeps.
    if (filter.window || filter.priority) return `${head}: ${namesOf(shown)}.`;
    const local = Temporal.Instant.fromEpochMilliseconds(this.#ctx.now.getTime())
      .toZonedDateTimeISO(this.#ctx.timezone)
      .toPlainDateTime();
    const now = local.toString({ smallestUnit: "minute" });
    const today = local.toPlainDate().toString();
    const open = shown.filter((t) => t.status !== "completed" && t.due);
    const overdue = open.filter((t) => dueAt(t) < now).length;
    const dueToday = open.filter((t) => t.due!.date === today && dueAt(t) >= now).length;
    const extras = [
      label !== "overdue" && overdue > 0 ? `${overdue} overdue` : "",
      label !== "due today" && dueToday > 0 ? `${dueToday} due today` : "",
    ].filter(Boolean);
    return `${[head, ...extras].join(", ")}.`;
  }
}

/** A local due as "YYYY-MM-DDTHH:MM", comparable as text; a date-only due is past only once its day is. */
const dueAt = (t: TaskView) => `${t.due!.date}T${t.due!.time ?? "24:00"}`;

/** “a”, “b” and “c” (the first five, then how many more): quoted, so "the second one" can find them. */
function namesOf(tasks: TaskView[]): string {
  const names = tasks.slice(0, 5).map((t) => `“${t.title}”`);
  if (tasks.length > 5) names.push(`${tasks.length - 5} more`);
  return names.length > 1 ? `${names.slice(0, -1).join(", ")} and ${names.at(-1)}` : names[0]!;
}

function listArgs(filter: ListFilter): Record<string, unknown> {
  return {
    ...(filter.status ? { status: filter.status } : {}),
    ...(filter.due ? { due: filter.due } : {}),
    ...(filter.query ? { query: filter.query } : {}),
    limit: 100,
  };
}

/**
 * The one task an edit means among those found: a cut whose task is a title wins (the longest such), else the
 * intended cut, by the words in titles. Asks which when several match, says so when none does.
 */
function pick(
  cmd: Edit,
  options: Edit[],
  found: TaskView[],
  today: Temporal.PlainDate,
): { edit: Edit; task: TaskView } | { say: string; none?: true } {
  const exactly = (e: Edit) => found.filter((t) => t.title.toLowerCase() === e.target.toLowerCase());
  const named = [...options].sort((x, y) => y.target.length - x.target.length).find((e) => exactly(e).length);
  const edit = named ?? cmd;
  const exact = exactly(edit);
  const within = found.filter((t) => t.title.toLowerCase().includes(edit.target.toLowerCase()));
  const wanted = stems(edit.target);
  const matches = exact.length
    ? exact
    : within.length
      ? within
      : found.filter((t) => {
          const has = new Set(stems(t.title));
          return wanted.length > 0 && wanted.every((w) => has.has(w));
        });
  if (!matches.length) {
    const where = {
      pending: "among your open tasks",
      completed: "among your completed tasks",
      deleted: "in the trash",
    }[statusOf(cmd)];
    return { say: `I couldn't find “${edit.target}” ${where}.`, none: true };
  }
  if (matches.length > 1) {
    return {
      say: `Which one? ${matches
        .slice(0, 5)
        .map((t) => `“${t.title}”${t.due ? ` (due ${dayOf(t.due.date, today)})` : ""}`)
        .join(", ")}. Say it with the full title.`,
    };
  }
  return { edit, task: matches[0]! };
}

const IGNORED_WORDS = new Set([
  "the",
  "a",
  "an",
  "my",
  "to",
  "for",
  "of",
  "with",
  "about",
  "on",
  "at",
  "and",
]);

/**
 * The words of a title as a loose match compares them: "Emailing Sarah's report" and "email sarah report" alike.
 * Not a real stemmer: a few English endings, enough for the ways people say a task they wrote.
 */
function stems(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])
    .filter((w) => !IGNORED_WORDS.has(w))
    .map((w) => (w.length > 4 ? w.replace(/(?:ing|ed|es|s)$/, "") : w));
}

const UNDOABLE: Record<string, string> = {
  add_task: "delete_task",
  complete_task: "reopen_task",
  reopen_task: "complete_task",
  delete_task: "restore_task",
  restore_task: "delete_task",
};

/**
 * Takes back the previous answer's writes, from the app's notes of them (`- complete_task done: … ["x" (id …)]`):
 * an add is deleted, a completion reopened, a delete restored. An edit's old title, due or priority is not in the
 * notes, so it is not guessed.
 */
function undo(notes: string[], results: string[], said: (result: string) => string): Step {
  const writes = notes
    .flatMap((n) => n.split("\n"))
    .flatMap((line) => {
      const m = line.match(/^- ([a-z_]+) done: .*\[(.*)\]$/);
      if (!m || m[1] === "list_tasks") return [];
      const tasks = [...m[2]!.matchAll(/"(.*?)" \(id ([^)]+)\)/g)].map((t) => ({ title: t[1]!, id: t[2]! }));
      return [{ tool: m[1]!, tasks }];
    });
  if (!writes.length) return { say: "My last answer changed nothing, so there's nothing to undo." };
  if (writes.some((w) => !UNDOABLE[w.tool]))
    return {
      say: "I can't undo an edit: I don't keep the old title, due or priority. Say the change you want, e.g. “move buy milk to friday”.",
    };
  const undos = writes.toReversed().flatMap((w) => w.tasks.map((t) => ({ tool: UNDOABLE[w.tool]!, ...t })));
  if (!results.length) return { calls: undos.map((u) => ({ name: u.tool, args: { task_id: u.id } })) };
  // Taking an add back is a delete, which the app holds: one runs as the turn ends, more wait for a yes.
  const held = results.filter((r) => r.startsWith("Queued")).length;
  if (held > 1) return { say: `These ${held} tasks wait for your confirmation.` };
  return {
    say: results
      .map((r, i) => (r.startsWith("Queued") ? `“${undos[i]!.title}” goes to the trash.` : said(r)))
      .join("\n"),
  };
}

/** Where an edit looks for its task: a reopen among the done, a restore in the trash. */
function statusOf(edit: Edit | Bulk["change"]): "pending" | "completed" | "deleted" {
  return edit.kind === "reopen" ? "completed" : edit.kind === "restore" ? "deleted" : "pending";
}

/** "7pm", "at 8", "19:30", "noon" → "HH:MM" (a bare hour is as said, "at 9" is 09:00); undefined for a date. */
function clockTime(phrase: string): string | undefined {
  const t = phrase
    .trim()
    .toLowerCase()
    .replace(/^at\s+/, "");
  if (t === "noon") return "12:00";
  if (t === "midnight") return "00:00";
  const m = t.match(/^(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?$/);
  if (!m || (!m[2] && !m[3] && !/^at\s/i.test(phrase.trim()))) return undefined;
  let hour = Number(m[1]);
  const minute = Number(m[2] ?? 0);
  if (m[3]) {
    if (hour < 1 || hour > 12) return undefined;
    hour = (hour % 12) + (m[3].startsWith("p") ? 12 : 0);
  }
  if (hour > 23 || minute > 59) return undefined;
  return `${String(hour).padStart(2, "0")}:${String(minute).padStart(2, "0")}`;
}

/** What a held change will do, said before the app runs it at the end of the turn. */
function willDo(edit: Edit, task: TaskView): string {
  const title = `“${task.title}”`;
  switch (edit.kind) {
    case "complete":
      return `Marking ${title} done.`;
    case "reopen":
      return `Reopening ${title}.`;
    case "restore":
      return `Restoring ${title}.`;
    case "delete":
      return `${title} goes to the trash.`;
    case "rename":
      return `Renaming ${title} to “${edit.title}”.`;
    case "priority":
      return `Setting ${title} to ${edit.priority} priority.`;
    case "reschedule":
      return `Moving ${title} to ${edit.due}.`;
    case "shift":
      return `Moving ${title} by ${Math.abs(edit.days)} day${Math.abs(edit.days) === 1 ? "" : "s"}.`;
  }
}

/** The tool call that makes `edit`'s change to `task`. */
/** The user's now, zone and local date, for changes worked out from a task's due. */
type Clock = { now: Date; tz: string; today: Temporal.PlainDate };

/**
 * A new due for a task that has a time: "to 7pm" keeps its day (today, if that has passed), "to friday" keeps
 * its time. Undefined when the phrase says both, repeats, or the task has no due.
 */
function keepingPart(phrase: string, task: TaskView, clock: Clock): string | undefined {
  if (!task.due) return undefined;
  const time = clockTime(phrase);
  if (time) {
    const day = Temporal.PlainDate.from(task.due.date);
    return `${Temporal.PlainDate.compare(day, clock.today) < 0 ? clock.today : day}T${time}`;
  }
  if (!task.due.time) return undefined;
  try {
    const due = parseDue(phrase, clock);
    return due.dateOnly && !due.recurrence ? `${localParts(due).date}T${task.due.time}` : undefined;
  } catch {
    return undefined;
  }
}

function callFor(edit: Bulk["change"] | Edit, task: TaskView, clock: Clock): Call {
  const { today } = clock;
  const id = task.id;
  switch (edit.kind) {
    case "complete":
      return { name: "complete_task", args: { task_id: id } };
    case "reopen":
      return { name: "reopen_task", args: { task_id: id } };
    case "restore":
      return { name: "restore_task", args: { task_id: id } };
    case "delete":
      return { name: "delete_task", args: { task_id: id } };
    case "reschedule": {
      // "to wednesday, same time": the time it has.
      const phrase = edit.due.replace(/[,\s]+(?:at\s+)?(?:the\s+)?same time$/i, "") || edit.due;
      return { name: "update_task", args: { task_id: id, due: keepingPart(phrase, task, clock) ?? phrase } };
    }
    case "rename":
      return { name: "update_task", args: { task_id: id, title: edit.title } };
    case "priority":
      return { name: "update_task", args: { task_id: id, priority: edit.priority } };
    case "shift": {
      // From the due it has (its time of day kept), or from today when it has none; local wall time.
      const date = (task.due ? Temporal.PlainDate.from(task.due.date) : today).add({ days: edit.days });
      const due = task.due?.time ? `${date}T${task.due.time}` : date.toString();
      return { name: "update_task", args: { task_id: id, due } };
    }
  }
}

/**
 * The task titles the previous answer showed, in order: its "- title" lines (a selection to confirm), the
 * “titles” it named ("Which one?", a window of a listing), else the list under it: the last listing in the
 * hidden notes the app keeps of that turn's tool calls (`- list_tasks done: … ["Title" (id …); …]`).
 */
function listTitles(answer: string, notes: string[]): string[] {
  const lines = answer
    .split("\n")
    .filter((l) => l.startsWith("- "))
    .map((l) => l.slice(2).trim());
  if (lines.length) return lines;
  const named = [...answer.matchAll(/“([^”]+)”/g)].map((m) => m[1]!);
  if (named.length) return named;
  const listing = notes
    .flatMap((n) => n.split("\n"))
    .findLast((l) => l.startsWith("- list_tasks done: "))
    ?.match(/\[(.*)\]$/)?.[1];
  return listing ? [...listing.matchAll(/"(.*?)" \(id [^)]*\)/g)].map((m) => m[1]!) : [];
}

/**
 * The app's hidden notes (in user role) before `end`, back to the user's previous message: before the answer at
 * `end`, or, with `end` past the last item, all of the last turn's (held calls run after its answer included).
 */
function notesBefore(items: AgentInputItem[], end: number): string[] {
  const notes: string[] = [];
  for (let i = end - 1; i >= 0; i--) {
    const item = items[i]!;
    if (!("role" in item) || item.role !== "user") continue;
    const text = textOf(item);
    if (!HIDDEN_NOTES.test(text)) break;
    notes.unshift(text);
  }
  return notes;
}

/** "today", "tomorrow", "Friday" within a week, else "3 Dec": a day ("YYYY-MM-DD") as people say it. */
function dayOf(day: string, today: Temporal.PlainDate): string {
  const date = Temporal.PlainDate.from(day);
  const days = today.until(date, { largestUnit: "days" }).days;
  if (days === 0) return "today";
  if (days === 1) return "tomorrow";
  if (days === -1) return "yesterday";
  if (days > 1 && days < 7) return WEEKDAYS[date.dayOfWeek - 1]!;
  return `${date.day} ${MONTHS[date.month - 1]}${date.year === today.year ? "" : ` ${date.year}`}`;
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
    const priority = rest.match(/ · (high|low)\b/)?.[1] as TaskView["priority"] | undefined;
    return [
      {
        id: m[1]!,
        title: m[2]!.replace(/…$/, ""),
        status: / · done\b/.test(rest) ? "completed" : "pending",
        priority: priority ?? "medium",
        due: due ? { date: due[1]!, time: due[2] ?? null } : null,
      },
    ];
  });
}
