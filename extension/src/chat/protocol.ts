// The slice of the ChatKit wire protocol the built-in chat speaks (gateway/src/chatkit/types.ts is the full
// transcription). Events are checked at the envelope: a well-formed `type` plus the fields each case reads;
// unknown event and item types are ignored, as ChatKit's own client does.
import { z } from "zod/mini";
import type { PageContext } from "./frame-protocol.ts";

export type WidgetNode = {
  type: string;
  key?: string;
  id?: string;
  children?: WidgetNode | WidgetNode[];
  [prop: string]: unknown;
};
export type WidgetAction = { type: string; payload?: unknown; streaming?: boolean };

export type WorkflowTask = { type: string; title?: string; content?: string; status_indicator?: string };
export type Workflow = {
  type: string;
  tasks: WorkflowTask[];
  summary?: { title?: string; duration?: number };
};

type ItemBase = { id: string; thread_id: string; created_at: string };
export type ThreadItem = ItemBase &
  (
    | { type: "user_message"; content: { type: string; text?: string }[] }
    | { type: "assistant_message"; content: { type: "output_text"; text: string }[] }
    | { type: "widget"; widget: WidgetNode; copy_text?: string }
    | { type: "workflow"; workflow: Workflow }
    | { type: "task"; task: WorkflowTask }
    | { type: "other"; original: string }
  );

export type ThreadMeta = { id: string; title?: string; created_at: string };
export type Thread = ThreadMeta & { items: { data: ThreadItem[]; has_more: boolean } };

export type StreamEvent =
  | { type: "thread.created" | "thread.updated"; thread: Thread }
  | { type: "thread.item.added" | "thread.item.done" | "thread.item.replaced"; item: ThreadItem }
  | { type: "thread.item.updated"; item_id: string; update: ItemUpdate }
  | { type: "thread.item.removed"; item_id: string }
  | { type: "progress_update"; text: string }
  | { type: "client_effect"; name: string; data: Record<string, unknown> }
  | { type: "error"; code: string; message?: string; allow_retry: boolean }
  | { type: "notice"; level: "info" | "warning" | "danger"; message: string; title?: string };

export type ItemUpdate =
  | { type: "assistant_message.content_part.added"; content_index: number; content: { text: string } }
  | { type: "assistant_message.content_part.text_delta"; content_index: number; delta: string }
  | { type: "assistant_message.content_part.done"; content_index: number; content: { text: string } }
  | { type: "widget.root.updated"; widget: WidgetNode }
  | { type: "workflow.task.added" | "workflow.task.updated"; task_index: number; task: WorkflowTask }
  | { type: "other" };

const str = z.string();
const record = z.record(z.string(), z.unknown());
const itemSchema = z.looseObject({ id: str, thread_id: str, created_at: str, type: str });
const threadSchema = z.looseObject({
  id: str,
  title: z.optional(str),
  created_at: str,
  items: z.optional(z.object({ data: z.array(record), has_more: z.boolean() })),
});
const KNOWN_ITEMS = new Set(["user_message", "assistant_message", "widget", "workflow", "task"]);

/** An item from the wire; kinds the chat does not draw become `other` (kept for ordering and ids). */
export function parseItem(raw: unknown): ThreadItem | null {
  const base = itemSchema.safeParse(raw);
  if (!base.success) return null;
  if (KNOWN_ITEMS.has(base.data.type)) return base.data as unknown as ThreadItem;
  const { id, thread_id, created_at, type } = base.data;
  return { id, thread_id, created_at, type: "other", original: type };
}

export function parseThread(raw: unknown): Thread | null {
  const parsed = threadSchema.safeParse(raw);
  if (!parsed.success) return null;
  const items = (parsed.data.items?.data ?? []).flatMap((i) => parseItem(i) ?? []);
  return {
    id: parsed.data.id,
    title: parsed.data.title,
    created_at: parsed.data.created_at,
    items: { data: items, has_more: parsed.data.items?.has_more ?? false },
  };
}

const UPDATE_TYPES = new Set([
  "assistant_message.content_part.added",
  "assistant_message.content_part.text_delta",
  "assistant_message.content_part.done",
  "widget.root.updated",
  "workflow.task.added",
  "workflow.task.updated",
]);

/** One SSE `data:` payload as an event the chat understands, or null (ignored). */
export function parseStreamEvent(data: string): StreamEvent | null {
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch {
    return null;
  }
  const parsed = z.looseObject({ type: str }).safeParse(raw);
  if (!parsed.success) return null;
  const e = parsed.data as Record<string, unknown> & { type: string };
  switch (e.type) {
    case "thread.created":
    case "thread.updated": {
      const thread = parseThread(e.thread);
      return thread ? { type: e.type, thread } : null;
    }
    case "thread.item.added":
    case "thread.item.done":
    case "thread.item.replaced": {
      const item = parseItem(e.item);
      return item ? { type: e.type, item } : null;
    }
    case "thread.item.updated": {
      if (typeof e.item_id !== "string") return null;
      const update = z.looseObject({ type: str }).safeParse(e.update);
      if (!update.success) return null;
      return {
        type: e.type,
        item_id: e.item_id,
        update: (UPDATE_TYPES.has(update.data.type) ? update.data : { type: "other" }) as ItemUpdate,
      };
    }
    case "thread.item.removed":
      return typeof e.item_id === "string" ? { type: e.type, item_id: e.item_id } : null;
    case "progress_update":
      return typeof e.text === "string" ? { type: e.type, text: e.text } : null;
    case "client_effect":
      return typeof e.name === "string"
        ? { type: e.type, name: e.name, data: (e.data as Record<string, unknown>) ?? {} }
        : null;
    case "error":
      return {
        type: "error",
        code: typeof e.code === "string" ? e.code : "custom",
        message: typeof e.message === "string" ? e.message : undefined,
        allow_retry: e.allow_retry === true,
      };
    case "notice":
      return typeof e.message === "string"
        ? {
            type: "notice",
            level: e.level === "warning" || e.level === "danger" ? e.level : "info",
            message: e.message,
            title: typeof e.title === "string" ? e.title : undefined,
          }
        : null;
    default:
      return null;
  }
}

/** A user message as ChatKit sends it. */
export const userInput = (text: string) => ({
  content: [{ type: "input_text", text }],
  attachments: [],
  inference_options: {},
});

export type StreamingRequest =
  | { type: "threads.create"; params: { input: ReturnType<typeof userInput> } }
  | { type: "threads.add_user_message"; params: { thread_id: string; input: ReturnType<typeof userInput> } }
  | { type: "threads.retry_after_item"; params: { thread_id: string; item_id: string } }
  | { type: "threads.custom_action"; params: { thread_id: string; item_id: string; action: WidgetAction } };

/** Requests that start a turn carry the page the user is on, as the ChatKit frame's fetch adds it. */
export function withPage<T extends { type: string }>(request: T, page: PageContext | null) {
  return page ? { ...request, metadata: { page } } : request;
}
