import type {
  AgentEvent,
  AgentUser,
  ChatAgent,
  PageContext,
  PendingConfirmation,
} from "../agent/contract.ts";
import { StreamError } from "./errors.ts";
import { HISTORY_ITEMS, type HiddenNote, lastPage, toAgentHistory, userMessageText } from "./history.ts";
import { samePage } from "./page-context.ts";
import { generateId } from "./store.ts";
import type { StreamContext } from "./stream.ts";
import type {
  AssistantMessageItem,
  Task,
  ThreadItem,
  ThreadMetadata,
  ThreadStreamEvent,
  UserMessageItem,
  WidgetItem,
  WidgetRoot,
  WorkflowItem,
} from "./types.ts";
import {
  type Clock,
  confirmationCard,
  dueLabel,
  resolvedConfirmationCard,
  type TaskRow,
  taskListWidget,
  taskViewSchema,
} from "./widgets.ts";

export type TurnContext = StreamContext & {
  user: AgentUser;
  /** How the user reads dates and times (chatkit/locale.ts): the widgets format with it. */
  locale: string;
  page?: PageContext;
  /** The per-user turn limit was hit: save what the user typed, run nothing, say so. */
  turnLimited: Promise<boolean>;
  turnsPerMinute: number;
};

/** Kept in the thread's server-private metadata while a confirmation card waits for an answer. */
type PendingCard = { card_item_id: string; confirmation: PendingConfirmation };

const TOOL_ICONS: Record<string, string> = {
  add_task: "plus",
  list_tasks: "search",
  complete_task: "check-circle",
  reopen_task: "reload",
  update_task: "write",
  set_priority: "star",
  delete_task: "lucide:trash-2",
  restore_task: "reload",
};

const now = () => new Date().toISOString();
const done = (item: ThreadItem): ThreadStreamEvent => ({ type: "thread.item.done", item });
const hidden = (threadId: string, note: HiddenNote): ThreadStreamEvent =>
  done({
    id: generateId("hidden_context"),
    thread_id: threadId,
    created_at: now(),
    type: "hidden_context_item",
    content: note,
  });

export function widgetItem(threadId: string, widget: WidgetRoot, copyText: string): WidgetItem {
  return {
    id: generateId("message"),
    thread_id: threadId,
    created_at: now(),
    type: "widget",
    widget,
    copy_text: copyText,
  };
}

export function assistantMessage(threadId: string, text: string): AssistantMessageItem {
  return {
    id: generateId("message"),
    thread_id: threadId,
    created_at: now(),
    type: "assistant_message",
    content: [{ type: "output_text", text, annotations: [] }],
  };
}

/** A short title from the first message, cut at a word boundary. */
export function titleFrom(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (!flat) return "New chat";
  if (flat.length <= 60) return flat;
  const cut = flat.slice(0, 60);
  const space = cut.lastIndexOf(" ");
  return `${(space > 30 ? cut.slice(0, space) : cut).replace(/[\s,.;:!?-]+$/, "")}…`;
}

/**
 * Turns an agent's events into ChatKit events: streamed assistant messages, a workflow item per run of tool
 * calls (one task per call, its line saying what happened), a task-list widget for a listing, a confirmation
 * card, a `tasks.changed` client effect after each write, and a hidden note per tool result for later turns.
 *
 * A listing's widget goes under the answer, once the turn's changes are known: a listing that one of them then
 * changed was a lookup ("complete buy milk" lists to find the task), which the workflow's lines already tell, and
 * a widget of it would show the task as it was.
 */
export function createTranslator(ctx: TurnContext, thread: ThreadMetadata) {
  let message: { item: AssistantMessageItem; text: string } | undefined;
  let workflow: WorkflowItem | undefined;
  const taskIndex = new Map<string, number>();
  let listings: { tasks: TaskRow[]; changed: boolean }[] = [];

  function* showListings(): Generator<ThreadStreamEvent> {
    const shown = listings.filter((l) => !l.changed);
    listings = [];
    for (const { tasks } of shown) {
      const list = taskListWidget(tasks, clockOf(ctx));
      yield done(widgetItem(thread.id, list.widget, list.copyText));
    }
  }

  function* closeMessage(): Generator<ThreadStreamEvent> {
    if (!message) return;
    const { item, text } = message;
    message = undefined;
    if (!text.trim()) {
      yield { type: "thread.item.removed", item_id: item.id };
      return;
    }
    const content = { type: "output_text" as const, text, annotations: [] };
    yield {
      type: "thread.item.updated",
      item_id: item.id,
      update: { type: "assistant_message.content_part.done", content_index: 0, content },
    };
    yield done({ ...item, content: [content] });
  }

  function* closeWorkflow(): Generator<ThreadStreamEvent> {
    if (!workflow) return;
    const item = workflow;
    workflow = undefined;
    taskIndex.clear();
    const tasks = item.workflow.tasks.map((t) =>
      t.status_indicator === "loading" ? { ...t, status_indicator: "none" as const } : t,
    );
    const first = tasks[0];
    const title =
      tasks.length === 1 && first?.type === "custom" && first.title ? first.title : `${tasks.length} steps`;
    yield done({ ...item, workflow: { ...item.workflow, tasks, summary: { title }, expanded: false } });
  }

  function* startText(): Generator<ThreadStreamEvent> {
    yield* closeWorkflow();
    const item: AssistantMessageItem = {
      id: generateId("message"),
      thread_id: thread.id,
      created_at: now(),
      type: "assistant_message",
      content: [],
    };
    message = { item, text: "" };
    yield { type: "thread.item.added", item };
    yield {
      type: "thread.item.updated",
      item_id: item.id,
      update: {
        type: "assistant_message.content_part.added",
        content_index: 0,
        content: { type: "output_text", text: "", annotations: [] },
      },
    };
  }

  function* addTask(callId: string, task: Task): Generator<ThreadStreamEvent> {
    yield* closeMessage();
    if (!workflow) {
      workflow = {
        id: generateId("workflow"),
        thread_id: thread.id,
        created_at: now(),
        type: "workflow",
        workflow: { type: "custom", tasks: [task], expanded: false },
      };
      taskIndex.set(callId, 0);
      // A copy: later calls add to this workflow's tasks after the event went out.
      yield {
        type: "thread.item.added",
        item: { ...workflow, workflow: { ...workflow.workflow, tasks: [...workflow.workflow.tasks] } },
      };
      return;
    }
    workflow.workflow.tasks.push(task);
    const index = workflow.workflow.tasks.length - 1;
    taskIndex.set(callId, index);
    yield {
      type: "thread.item.updated",
      item_id: workflow.id,
      update: { type: "workflow.task.added", task_index: index, task },
    };
  }

  function* handle(event: AgentEvent): Generator<ThreadStreamEvent> {
    switch (event.type) {
      case "text.delta": {
        if (!event.delta) return;
        if (!message) yield* startText();
        message!.text += event.delta;
        yield {
          type: "thread.item.updated",
          item_id: message!.item.id,
          update: { type: "assistant_message.content_part.text_delta", content_index: 0, delta: event.delta },
        };
        return;
      }
      case "text.done": {
        if (message) {
          message.text = event.text;
          yield* closeMessage();
        } else if (event.text.trim()) {
          yield* closeWorkflow();
          yield done(assistantMessage(thread.id, event.text));
        }
        return;
      }
      case "tool.started": {
        yield* addTask(event.callId, {
          type: "custom",
          status_indicator: "loading",
          title: event.label,
          icon: TOOL_ICONS[event.tool] ?? "bolt",
        });
        return;
      }
      case "tool.finished": {
        const tasks = tasksIn(event.structured);
        const task: Task = {
          type: "custom",
          status_indicator: "complete",
          title: shownSummary(event.summary, event.structured?.task ? tasks[0] : undefined, clockOf(ctx)),
          icon: event.ok ? (TOOL_ICONS[event.tool] ?? "bolt") : "info",
        };
        const index = taskIndex.get(event.callId);
        if (workflow && index !== undefined) {
          workflow.workflow.tasks[index] = task;
          yield {
            type: "thread.item.updated",
            item_id: workflow.id,
            update: { type: "workflow.task.updated", task_index: index, task },
          };
        } else {
          yield* addTask(event.callId, task);
        }
        yield hidden(thread.id, {
          kind: "tool",
          tool: event.tool,
          ok: event.ok,
          summary: event.summary,
          ...(tasks.length ? { tasks: tasks.map((t) => ({ id: t.id, title: t.title })) } : {}),
        });
        if (event.wrote) {
          yield { type: "client_effect", name: "tasks.changed", data: { ids: tasks.map((t) => t.id) } };
          const ids = new Set(tasks.map((t) => t.id));
          for (const listing of listings) listing.changed ||= listing.tasks.some((t) => ids.has(t.id));
        }
        if (event.tool === "list_tasks" && event.ok && tasks.length > 0)
          listings.push({ tasks, changed: false });
        return;
      }
      case "confirmation.required": {
        yield* closeMessage();
        yield* closeWorkflow();
        yield* showListings();
        const card = confirmationCard(event.confirmation);
        const item = widgetItem(thread.id, card.widget, card.copyText);
        yield done(item);
        thread.metadata = {
          ...thread.metadata,
          confirmation: { card_item_id: item.id, confirmation: event.confirmation } satisfies PendingCard,
        };
        yield hidden(thread.id, {
          kind: "note",
          text: `Asked the user to confirm: ${event.confirmation.prompt}`,
        });
        return;
      }
    }
  }

  /** Ends what is open: after the run, or before an error event so the thread stays consistent. */
  function* finish(): Generator<ThreadStreamEvent> {
    yield* closeMessage();
    yield* closeWorkflow();
    yield* showListings();
  }

  async function* run(events: AsyncIterable<AgentEvent>): AsyncGenerator<ThreadStreamEvent> {
    try {
      for await (const event of events) yield* handle(event);
    } catch (err) {
      if (!ctx.signal.aborted) yield* finish();
      throw err;
    }
    yield* finish();
  }

  return { run, finish };
}

/**
 * A tool's line as the user sees it: its due ("· due 2026-11-30 17:00", as the model reads it) written as the
 * widgets write dues ("· due tomorrow 5:00 PM").
 */
function shownSummary(summary: string, task: TaskRow | undefined, clock: Clock): string {
  if (!task?.due) return summary;
  return summary.replace(
    / · due \d{4}-\d{2}-\d{2}(?: \d{2}:\d{2})?$/,
    ` · due ${dueLabel(task.due, clock).text}`,
  );
}

/** The user's zone and locale, for the widgets' dates. */
export const clockOf = (ctx: TurnContext): Clock => ({ zone: ctx.user.timezone, locale: ctx.locale });

/** The task views in a tool's structuredContent: `{task}` for one-task tools, `{tasks}` for a listing. */
export function tasksIn(structured: Record<string, unknown> | undefined): TaskRow[] {
  if (!structured) return [];
  const list = Array.isArray(structured.tasks) ? structured.tasks : structured.task ? [structured.task] : [];
  return list.flatMap((t) => {
    const parsed = taskViewSchema.safeParse(t);
    return parsed.success ? [parsed.data] : [];
  });
}

export function pendingCard(thread: ThreadMetadata): PendingCard | undefined {
  return thread.metadata.confirmation as PendingCard | undefined;
}

/** Answers a pending confirmation card: replaced with its outcome, and noted for the model. */
export async function* resolveCard(
  ctx: TurnContext,
  thread: ThreadMetadata,
  pending: PendingCard,
  outcome: "confirmed" | "cancelled" | "expired",
): AsyncGenerator<ThreadStreamEvent> {
  const { confirmation: _, ...rest } = thread.metadata;
  thread.metadata = rest;
  const card = await ctx.store.loadItem(thread.id, pending.card_item_id).catch(() => undefined);
  if (card?.type === "widget") {
    yield {
      type: "thread.item.replaced",
      item: { ...card, widget: resolvedConfirmationCard(pending.confirmation, outcome) },
    };
  }
  const said = { confirmed: "confirmed", cancelled: "cancelled", expired: "did not confirm" }[outcome];
  yield hidden(thread.id, { kind: "note", text: `The user ${said}: ${pending.confirmation.prompt}` });
}

/**
 * `respond()` for one user message (or none, after a client tool output or a structured input): history from
 * the stored items, the page stored when it changed, a pending confirmation answered, then the agent's turn.
 */
export async function* respond(
  ctx: TurnContext,
  agent: ChatAgent,
  thread: ThreadMetadata,
  input: UserMessageItem | null,
  /** The thread's newest items up to `input`, when the request read them already (with its own write). */
  opts: { recent?: ThreadItem[] } = {},
): AsyncGenerator<ThreadStreamEvent> {
  const recent =
    opts.recent ??
    (await ctx.store.loadThreadItems(thread.id, { limit: HISTORY_ITEMS, order: "desc" })).data.reverse();
  const cut = input ? recent.findIndex((i) => i.id === input.id) : -1;
  const earlier = cut >= 0 ? recent.slice(0, cut) : recent;
  const message = input ? userMessageText(input) : "(Continue.)";
  if (await ctx.turnLimited) {
    throw new StreamError(
      `You've sent ${ctx.turnsPerMinute} messages in the last minute, the most Margin takes. Wait a minute, then retry.`,
      true,
    );
  }
  if (ctx.page && !samePage(lastPage(recent), ctx.page))
    yield hidden(thread.id, { kind: "page", page: ctx.page });

  const translator = createTranslator(ctx, thread);
  const pending = pendingCard(thread);
  const reply = pending && input ? agent.readConfirmationReply(message) : undefined;
  if (pending && input) {
    yield* resolveCard(
      ctx,
      thread,
      pending,
      reply === "yes" ? "confirmed" : reply === "no" ? "cancelled" : "expired",
    );
  }
  if (pending && reply === "yes") {
    yield* translator.run(
      agent.runConfirmed({ user: ctx.user, confirmation: pending.confirmation, signal: ctx.signal }),
    );
  } else if (pending && reply === "no") {
    yield done(assistantMessage(thread.id, "OK, I won't do that. Nothing was changed."));
  } else {
    yield* translator.run(
      agent.runTurn({
        user: ctx.user,
        history: toAgentHistory(earlier),
        message,
        page: ctx.page,
        locale: ctx.locale,
        signal: ctx.signal,
        stored: ctx.stored,
      }),
    );
  }
  // The first exchange that got an answer names the thread after what the user first asked.
  if (!thread.title) {
    const first = earlier.find((i): i is UserMessageItem => i.type === "user_message");
    thread.title = titleFrom(first ? userMessageText(first) : message);
  }
}
