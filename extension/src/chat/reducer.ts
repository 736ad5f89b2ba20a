import type { StreamEvent, Thread, ThreadItem, WidgetNode } from "./protocol.ts";

/** The built-in chat's view of one thread. */
export type ChatState = {
  threadId: string | null;
  title: string | null;
  items: ThreadItem[];
  /** A turn is streaming. */
  busy: boolean;
  /** What the server says it is doing (progress_update), cleared when items arrive. */
  progress: string | null;
  error: { message: string; retry: boolean } | null;
  notice: { level: "info" | "warning" | "danger"; message: string } | null;
};

export const emptyChat: ChatState = {
  threadId: null,
  title: null,
  items: [],
  busy: false,
  progress: null,
  error: null,
  notice: null,
};

export type ChatAction =
  | { type: "open"; thread: Thread }
  | { type: "new" }
  /** `userText`: shown at once; `keepThrough`: a retried message, after which the server drops all items. */
  | { type: "turn-started"; userText?: string; keepThrough?: string }
  | { type: "turn-ended" }
  | { type: "failed"; message: string; retry: boolean }
  | { type: "event"; event: StreamEvent }
  | { type: "item"; item: ThreadItem }
  /** A thread was renamed (from the history list): the open one shows its new title. */
  | { type: "renamed"; threadId: string; title: string | null }
  | { type: "dismiss" };

/** The user's words shown at once, before the server echoes its own `user_message` item (then replaced). */
export const PENDING_ID = "pending-user-message";

const upsert = (items: ThreadItem[], item: ThreadItem) => {
  const at = items.findIndex((i) => i.id === item.id);
  if (at >= 0) return items.map((i, n) => (n === at ? item : i));
  // The server's echo of the message shown optimistically takes its place.
  const rest = item.type === "user_message" ? items.filter((i) => i.id !== PENDING_ID) : items;
  return [...rest, item];
};

function updateItem(items: ThreadItem[], id: string, change: (item: ThreadItem) => ThreadItem) {
  return items.map((i) => (i.id === id ? change(i) : i));
}

function setText(item: ThreadItem, index: number, text: (old: string) => string): ThreadItem {
  if (item.type !== "assistant_message") return item;
  const content = [...item.content];
  while (content.length <= index) content.push({ type: "output_text", text: "" });
  content[index] = { type: "output_text", text: text(content[index]!.text) };
  return { ...item, content };
}

function applyEvent(state: ChatState, event: StreamEvent): ChatState {
  switch (event.type) {
    case "thread.created":
    case "thread.updated":
      return { ...state, threadId: event.thread.id, title: event.thread.title ?? state.title };
    case "thread.item.added":
    case "thread.item.done":
    case "thread.item.replaced":
      return { ...state, items: upsert(state.items, event.item), progress: null };
    case "thread.item.removed":
      return { ...state, items: state.items.filter((i) => i.id !== event.item_id) };
    case "thread.item.updated": {
      const u = event.update;
      const items = updateItem(state.items, event.item_id, (item) => {
        switch (u.type) {
          case "assistant_message.content_part.added":
          case "assistant_message.content_part.done":
            return setText(item, u.content_index, () => u.content.text);
          case "assistant_message.content_part.text_delta":
            return setText(item, u.content_index, (old) => old + u.delta);
          case "widget.root.updated":
            return item.type === "widget" ? { ...item, widget: u.widget as WidgetNode } : item;
          case "workflow.task.added":
          case "workflow.task.updated": {
            if (item.type !== "workflow") return item;
            const tasks = [...item.workflow.tasks];
            tasks[u.task_index] = u.task;
            return { ...item, workflow: { ...item.workflow, tasks } };
          }
          default:
            return item;
        }
      });
      return { ...state, items, progress: null };
    }
    case "progress_update":
      return { ...state, progress: event.text };
    case "error":
      return {
        ...state,
        error: {
          message: event.message || "Something went wrong with this answer.",
          retry: event.allow_retry,
        },
      };
    case "notice":
      return { ...state, notice: { level: event.level, message: event.message } };
    case "client_effect":
      return state;
  }
}

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case "open":
      return {
        ...emptyChat,
        threadId: action.thread.id,
        title: action.thread.title ?? null,
        items: action.thread.items.data,
      };
    case "new":
      return emptyChat;
    case "renamed":
      return state.threadId === action.threadId ? { ...state, title: action.title } : state;
    case "turn-started": {
      // A new message takes the place of one that was never sent; a retry keeps it (it is what is sent again).
      let items = action.userText ? state.items.filter((i) => i.id !== PENDING_ID) : state.items;
      if (action.keepThrough) {
        const at = items.findIndex((i) => i.id === action.keepThrough);
        if (at >= 0) items = items.slice(0, at + 1);
      }
      if (action.userText)
        items = [
          ...items,
          {
            id: PENDING_ID,
            thread_id: state.threadId ?? "",
            created_at: new Date().toISOString(),
            type: "user_message",
            content: [{ type: "input_text", text: action.userText }],
          },
        ];
      return { ...state, busy: true, error: null, notice: null, progress: null, items };
    }
    case "turn-ended":
      return { ...state, busy: false, progress: null };
    case "failed":
      // A message the server never got stays on screen (marked unsent) for Retry to send again.
      return {
        ...state,
        busy: false,
        progress: null,
        error: { message: action.message, retry: action.retry },
      };
    case "event":
      return applyEvent(state, action.event);
    case "item":
      return { ...state, items: upsert(state.items, action.item) };
    case "dismiss":
      return { ...state, error: null, notice: null };
  }
}
