import { describe, expect, it } from "vitest";
import { parseStreamEvent, type StreamEvent, type ThreadItem } from "./protocol.ts";
import { type ChatState, chatReducer, emptyChat, PENDING_ID } from "./reducer.ts";

const at = "2026-11-28T23:00:00Z";
const base = { thread_id: "t1", created_at: at };
const events = (...raw: unknown[]) => raw.map((r) => parseStreamEvent(JSON.stringify(r)) as StreamEvent);
const play = (state: ChatState, list: StreamEvent[]) =>
  list.reduce((s, event) => chatReducer(s, { type: "event", event }), state);

describe("the built-in chat's reducer", () => {
  it("shows the user's words at once, then the server's echo and the streamed answer", () => {
    let s = chatReducer(emptyChat, { type: "turn-started", userText: "add milk" });
    expect(s.busy).toBe(true);
    expect(s.items.map((i) => i.id)).toEqual([PENDING_ID]);
    s = play(
      s,
      events(
        {
          type: "thread.created",
          thread: { id: "t1", created_at: at, items: { data: [], has_more: false } },
        },
        {
          type: "thread.item.done",
          item: {
            ...base,
            id: "u1",
            type: "user_message",
            content: [{ type: "input_text", text: "add milk" }],
          },
        },
        { type: "thread.item.added", item: { ...base, id: "a1", type: "assistant_message", content: [] } },
        {
          type: "thread.item.updated",
          item_id: "a1",
          update: { type: "assistant_message.content_part.text_delta", content_index: 0, delta: "Added " },
        },
        {
          type: "thread.item.updated",
          item_id: "a1",
          update: { type: "assistant_message.content_part.text_delta", content_index: 0, delta: "“milk”." },
        },
      ),
    );
    s = chatReducer(s, { type: "turn-ended" });
    expect(s.threadId).toBe("t1");
    expect(s.busy).toBe(false);
    expect(s.items.map((i) => i.id)).toEqual(["u1", "a1"]);
    const answer = s.items[1] as Extract<ThreadItem, { type: "assistant_message" }>;
    expect(answer.content[0]!.text).toBe("Added “milk”.");
  });

  it("replaces a widget's root and a workflow's tasks in place; removes items", () => {
    const widget = { type: "ListView", children: [] };
    let s = play(
      emptyChat,
      events(
        { type: "thread.item.added", item: { ...base, id: "w1", type: "widget", widget } },
        {
          type: "thread.item.added",
          item: {
            ...base,
            id: "f1",
            type: "workflow",
            workflow: { type: "custom", tasks: [], expanded: false },
          },
        },
        {
          type: "thread.item.updated",
          item_id: "f1",
          update: { type: "workflow.task.added", task_index: 0, task: { type: "custom", title: "Adding" } },
        },
        {
          type: "thread.item.updated",
          item_id: "w1",
          update: { type: "widget.root.updated", widget: { type: "ListView", status: { text: "1 task" } } },
        },
      ),
    );
    expect((s.items[0] as unknown as { widget: { status: unknown } }).widget.status).toEqual({
      text: "1 task",
    });
    expect((s.items[1] as unknown as { workflow: { tasks: unknown[] } }).workflow.tasks).toEqual([
      { type: "custom", title: "Adding" },
    ]);
    s = play(s, events({ type: "thread.item.removed", item_id: "f1" }));
    expect(s.items.map((i) => i.id)).toEqual(["w1"]);
  });

  it("keeps error events (retry when allowed) and notices; a failed request keeps the unsent message", () => {
    let s = chatReducer(emptyChat, { type: "turn-started", userText: "hi" });
    s = play(
      s,
      events({ type: "error", code: "stream.error", message: "The model is busy.", allow_retry: true }),
    );
    expect(s.error).toEqual({ message: "The model is busy.", retry: true });
    s = play(s, events({ type: "notice", level: "warning", message: "Slow down" }));
    expect(s.notice).toEqual({ level: "warning", message: "Slow down" });
    s = chatReducer(s, { type: "failed", message: "Can't reach the Margin server.", retry: true });
    expect(s.items.map((i) => i.id)).toEqual([PENDING_ID]);
    expect(s.busy).toBe(false);
    expect(chatReducer(s, { type: "dismiss" }).error).toBeNull();
    // Retry sends it again and keeps it shown; a new message instead takes its place.
    expect(chatReducer(s, { type: "turn-started" }).items.map((i) => i.id)).toEqual([PENDING_ID]);
    const next = chatReducer(s, { type: "turn-started", userText: "hello" });
    expect(next.items).toMatchObject([{ id: PENDING_ID, content: [{ text: "hello" }] }]);
  });

  it("a retry after a stored message drops what came after it, as the server does", () => {
    const items: ThreadItem[] = [
      { ...base, id: "u1", type: "user_message", content: [{ type: "input_text", text: "x" }] },
      { ...base, id: "a1", type: "assistant_message", content: [{ type: "output_text", text: "hal" }] },
    ];
    const s = chatReducer(
      { ...emptyChat, threadId: "t1", items, error: { message: "Cut off.", retry: true } },
      { type: "turn-started", keepThrough: "u1" },
    );
    expect(s.items.map((i) => i.id)).toEqual(["u1"]);
    expect(s.error).toBeNull();
  });

  it("ignores what it does not know, and keeps hidden items out of sight", () => {
    expect(parseStreamEvent("not json")).toBeNull();
    expect(parseStreamEvent(JSON.stringify({ type: "stream_options", stream_options: {} }))).toBeNull();
    expect(parseStreamEvent(JSON.stringify({ type: "thread.item.added", item: { id: 1 } }))).toBeNull();
    const hidden = parseStreamEvent(
      JSON.stringify({
        type: "thread.item.done",
        item: { ...base, id: "h", type: "sdk_hidden_context", content: "x" },
      }),
    );
    expect(hidden).toMatchObject({ item: { type: "other", original: "sdk_hidden_context" } });
    const effect = parseStreamEvent(
      JSON.stringify({ type: "client_effect", name: "tasks.changed", data: { ids: ["a"] } }),
    );
    expect(effect).toEqual({ type: "client_effect", name: "tasks.changed", data: { ids: ["a"] } });
  });

  it("opens a stored thread as it was", () => {
    const items: ThreadItem[] = [
      { ...base, id: "u1", type: "user_message", content: [{ type: "input_text", text: "x" }] },
    ];
    const s = chatReducer(
      { ...emptyChat, busy: true },
      {
        type: "open",
        thread: { id: "t1", title: "Milk", created_at: at, items: { data: items, has_more: false } },
      },
    );
    expect(s).toMatchObject({ threadId: "t1", title: "Milk", busy: false, items });
  });

  it("a rename of the open thread changes its title; another thread's rename leaves it alone", () => {
    const open = chatReducer(emptyChat, {
      type: "open",
      thread: { id: "t1", title: "Milk", created_at: at, items: { data: [], has_more: false } },
    });
    expect(chatReducer(open, { type: "renamed", threadId: "t2", title: "Other" }).title).toBe("Milk");
    expect(chatReducer(open, { type: "renamed", threadId: "t1", title: "Groceries" }).title).toBe(
      "Groceries",
    );
  });
});
