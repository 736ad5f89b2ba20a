import { describe, expect, it } from "vitest";
import type { AgentEvent, PendingConfirmation } from "../../src/agent/contract.ts";
import { readSse } from "../support/gateway.ts";
import { addMessage, chatHarnessForFile, create, createdThreadId, itemsOf, say } from "./support.ts";

const { chat } = chatHarnessForFile();

type TaskJson = { id: string; title: string; status: string; deleted_at: string | null };

const addTask = async (token: string, title: string): Promise<TaskJson> =>
  (await (await chat.api("/api/tasks", token, { method: "POST", body: JSON.stringify({ title }) })).json())
    .task;
/** The task as the task service has it now, trash included ("all" leaves the trash out). */
const getTask = async (token: string, id: string): Promise<TaskJson | undefined> => {
  for (const status of ["all", "deleted"]) {
    const tasks = (await (await chat.api(`/api/tasks?status=${status}`, token)).json()).tasks as TaskJson[];
    const found = tasks.find((t) => t.id === id);
    if (found) return found;
  }
  return undefined;
};

/** A turn whose agent lists the user's tasks (as the MCP server returns them), so a list widget is shown. */
async function showList(token: string): Promise<{ threadId: string; widgetId: string; tasks: TaskJson[] }> {
  const listed = (await (await chat.api("/api/tasks", token)).json()) as {
    tasks: TaskJson[];
    next_cursor: null;
  };
  chat.agent.script = () => [
    { type: "tool.started", callId: "l", tool: "list_tasks", args: {}, label: "Looking at your tasks" },
    {
      type: "tool.finished",
      callId: "l",
      tool: "list_tasks",
      args: {},
      ok: true,
      summary: `${listed.tasks.length} tasks`,
      structured: listed,
      wrote: false,
    },
    ...say("Here they are."),
  ];
  const r = await chat.post(token, create("show my tasks"));
  return { threadId: createdThreadId(r), widgetId: itemsOf(r, "widget")[0]!.id, tasks: listed.tasks };
}

const toggle = (threadId: string, itemId: string, taskId: string, sync = true) => ({
  type: sync ? "threads.sync_custom_action" : "threads.custom_action",
  params: {
    thread_id: threadId,
    item_id: itemId,
    action: { type: "task.toggle", payload: { task_id: taskId } },
  },
});

type Row = {
  key: string;
  children: { type: string; defaultChecked?: boolean; label?: string; lineThrough?: boolean }[];
};
const rowOf = (item: unknown, taskId: string) =>
  (item as { widget: { children: Row[] } }).widget.children.find((r) => r.key === taskId)!;

describe("task-list widget actions", () => {
  it("completes a task from its checkbox through MCP, replaces and persists the widget, and the change goes live", async () => {
    const token = await chat.user("toggle@example.com");
    const milk = await addTask(token, "Buy milk");
    await addTask(token, "Call mum");
    const changes = readSse(await chat.api("/api/changes", token));
    await changes.waitFor((events) => events.some((e) => e.event === "ready"));
    try {
      const { threadId, widgetId } = await showList(token);
      const r = await chat.post(token, toggle(threadId, widgetId, milk.id));
      expect(r.status).toBe(200);
      const updated = (r.json as { updated_item: { id: string; type: string } }).updated_item;
      expect(updated).toMatchObject({ id: widgetId, type: "widget" });
      expect(rowOf(updated, milk.id).children[0]).toMatchObject({ type: "Checkbox", defaultChecked: true });
      expect(rowOf(updated, milk.id).children[1]).toMatchObject({ type: "Text", lineThrough: true });

      expect((await getTask(token, milk.id))!.status).toBe("completed");
      await changes.waitFor(() =>
        changes.changes().some((c) => c.task_id === milk.id && c.op === "completed"),
      );

      // Persisted: reopening the thread shows the ticked row; the model hears of it next turn.
      const thread = (await chat.post(token, { type: "threads.get_by_id", params: { thread_id: threadId } }))
        .json as {
        items: { data: { id: string }[] };
      };
      expect(
        rowOf(
          thread.items.data.find((i) => i.id === widgetId),
          milk.id,
        ).children[0]!.defaultChecked,
      ).toBe(true);
      chat.agent.script = () => say("Nice.");
      await chat.post(token, addMessage(threadId, "done with that"));
      expect(JSON.stringify(chat.agent.turns.at(-1)!.history)).toContain(
        'ticked or unticked \\"Buy milk\\" in the task list',
      );

      // Unticking reopens it.
      const back = await chat.post(token, toggle(threadId, widgetId, milk.id));
      expect(
        rowOf((back.json as { updated_item: unknown }).updated_item, milk.id).children[0]!.defaultChecked,
      ).toBe(false);
      expect((await getTask(token, milk.id))!.status).toBe("pending");
    } finally {
      await changes.close();
    }
  });

  it("deletes from the list as a stream with a tasks.changed effect, and undoes it", async () => {
    const token = await chat.user("delete@example.com");
    const task = await addTask(token, "Old idea");
    const { threadId, widgetId } = await showList(token);
    const del = await chat.post(token, {
      type: "threads.custom_action",
      params: {
        thread_id: threadId,
        item_id: widgetId,
        action: { type: "task.delete", payload: { task_id: task.id } },
      },
    });
    expect(del.shapes).toEqual(["stream_options", "thread.item.replaced(widget)", "client_effect"]);
    expect(del.events[2]).toEqual({ type: "client_effect", name: "tasks.changed", data: { ids: [task.id] } });
    const row = rowOf((del.events[1] as { item: unknown }).item, task.id);
    expect(row.children.map((c) => c.label).filter(Boolean)).toEqual(["Deleted", "Undo"]);
    expect((await getTask(token, task.id))!.deleted_at).not.toBeNull();

    const undo = await chat.post(token, {
      type: "threads.custom_action",
      params: {
        thread_id: threadId,
        item_id: widgetId,
        action: { type: "task.restore", payload: { task_id: task.id } },
      },
    });
    expect(undo.shapes).toEqual(["stream_options", "thread.item.replaced(widget)", "client_effect"]);
    expect((await getTask(token, task.id))!.deleted_at).toBeNull();

    // The checkbox also works as a streamed action.
    const ticked = await chat.post(token, toggle(threadId, widgetId, task.id, false));
    expect(ticked.shapes).toEqual(["stream_options", "thread.item.replaced(widget)", "client_effect"]);
    expect((await getTask(token, task.id))!.status).toBe("completed");
  });

  it("refuses a task that is not in the widget, another user's widget, and unknown actions", async () => {
    const alice = await chat.user("alice-actions@example.com");
    const bob = await chat.user("bob-actions@example.com");
    const aliceTask = await addTask(alice, "Alice's secret");
    await addTask(bob, "Bob's errand");
    const a = await showList(alice);
    const b = await showList(bob);

    // Bob names Alice's task in his own widget: not in that list, so not found; Alice's task is untouched.
    const foreignTask = await chat.post(bob, toggle(b.threadId, b.widgetId, aliceTask.id));
    expect(foreignTask.status).toBe(404);
    // Bob sends Alice's widget / thread ids.
    expect((await chat.post(bob, toggle(a.threadId, a.widgetId, aliceTask.id))).status).toBe(404);
    expect((await chat.post(bob, toggle(b.threadId, a.widgetId, aliceTask.id))).status).toBe(404);
    expect((await chat.post(bob, toggle(a.threadId, a.widgetId, aliceTask.id, false))).status).toBe(404);
    expect((await getTask(alice, aliceTask.id))!.status).toBe("pending");

    const unknown = await chat.post(alice, {
      type: "threads.sync_custom_action",
      params: { thread_id: a.threadId, item_id: a.widgetId, action: { type: "task.explode", payload: {} } },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.json).toMatchObject({ error: { message: expect.stringContaining("task.explode") } });
    const noPayload = await chat.post(alice, {
      type: "threads.custom_action",
      params: { thread_id: a.threadId, item_id: a.widgetId, action: { type: "task.toggle" } },
    });
    expect(noPayload.shapes).toEqual(["stream_options", "error"]);
  });
});

describe("confirmation card", () => {
  const confirmation: PendingConfirmation = {
    id: "conf-1",
    prompt: "Delete 2 tasks: 'A', 'B'?",
    calls: [
      { tool: "delete_task", args: { task_id: "a" }, label: "Delete 'A'" },
      { tool: "delete_task", args: { task_id: "b" }, label: "Delete 'B'" },
    ],
  };
  const asksToConfirm = (): AgentEvent[] => [
    ...say("This deletes 2 tasks."),
    { type: "confirmation.required", confirmation },
  ];

  it("shows a card, and runs the held-back writes when the user answers yes", async () => {
    const token = await chat.user("confirm-yes@example.com");
    chat.agent.script = asksToConfirm;
    const r = await chat.post(token, create("delete A and B"));
    const [card] = itemsOf(r, "widget") as unknown as { id: string; widget: Record<string, unknown> }[];
    expect(card!.widget).toMatchObject({
      type: "Card",
      confirm: {
        label: "Confirm",
        action: { type: "confirmation.confirm", payload: { confirmation_id: "conf-1" } },
      },
      cancel: {
        label: "Cancel",
        action: { type: "confirmation.cancel", payload: { confirmation_id: "conf-1" } },
      },
    });
    const threadId = createdThreadId(r);
    chat.agent.confirmedScript = () => [
      { type: "tool.started", callId: "d", tool: "delete_task", args: {}, label: "Deleting 'A'" },
      {
        type: "tool.finished",
        callId: "d",
        tool: "delete_task",
        args: {},
        ok: true,
        summary: "Deleted 'A'",
        wrote: true,
      },
      ...say("Deleted both."),
    ];
    const yes = await chat.post(token, addMessage(threadId, "yes please"));
    expect(chat.agent.confirmed.at(-1)!.confirmation).toEqual(confirmation);
    expect(yes.shapes.slice(0, 4)).toEqual([
      "thread.item.done(user_message)",
      "stream_options",
      "thread.item.replaced(widget)",
      "thread.item.added(workflow)",
    ]);
    expect(yes.shapes).toContain("client_effect");
    const replaced = (yes.events[2] as { item: { id: string; widget: Record<string, unknown> } }).item;
    expect(replaced.id).toBe(card!.id);
    expect(replaced.widget.confirm).toBeUndefined();
    expect(replaced.widget.status).toEqual({ text: "Confirmed", icon: "check-circle" });

    // Answered once: a second "yes" is an ordinary message.
    const turns = chat.agent.turns.length;
    await chat.post(token, addMessage(threadId, "yes"));
    expect(chat.agent.confirmed).toHaveLength(1);
    expect(chat.agent.turns.length).toBe(turns + 1);
  });

  it("cancels on no, expires on anything else, and answers the buttons only for the pending card", async () => {
    const token = await chat.user("confirm-no@example.com");
    const confirmedBefore = chat.agent.confirmed.length;
    chat.agent.script = asksToConfirm;
    const first = await chat.post(token, create("delete A and B"));
    const threadId = createdThreadId(first);
    const no = await chat.post(token, addMessage(threadId, "no"));
    expect(no.shapes).toEqual([
      "thread.item.done(user_message)",
      "stream_options",
      "thread.item.replaced(widget)",
      "thread.item.done(assistant_message)",
    ]);

    chat.agent.script = asksToConfirm;
    const second = await chat.post(token, addMessage(threadId, "delete A and B again"));
    const secondCard = itemsOf(second, "widget")[0]!;
    chat.agent.script = () => say("Sure.");
    const other = await chat.post(token, addMessage(threadId, "what's the weather?"));
    expect(other.shapes[2]).toBe("thread.item.replaced(widget)");
    expect(
      (other.events[2] as { item: { widget: { status: { text: string } } } }).item.widget.status.text,
    ).toMatch(/Not confirmed/);
    // The old card's button no longer runs anything.
    const stale = await chat.post(token, {
      type: "threads.custom_action",
      params: {
        thread_id: threadId,
        item_id: secondCard.id,
        action: { type: "confirmation.confirm", payload: { confirmation_id: "conf-1" } },
      },
    });
    expect(stale.events.at(-1)).toMatchObject({
      type: "error",
      message: expect.stringMatching(/no longer pending/),
    });

    // A fresh card confirmed by its button; another user's attempt is refused first.
    chat.agent.script = asksToConfirm;
    const third = await chat.post(token, addMessage(threadId, "delete them"));
    const card = itemsOf(third, "widget")[0]!;
    const confirm = {
      type: "threads.custom_action",
      params: {
        thread_id: threadId,
        item_id: card.id,
        action: { type: "confirmation.confirm", payload: { confirmation_id: "conf-1" } },
      },
    };
    const mallory = await chat.user("mallory@example.com");
    expect((await chat.post(mallory, confirm)).status).toBe(404);
    expect(chat.agent.confirmed.length).toBe(confirmedBefore);
    const pressed = await chat.post(token, confirm);
    expect(pressed.shapes[0]).toBe("stream_options");
    expect(pressed.shapes[1]).toBe("thread.item.replaced(widget)");
    expect(chat.agent.confirmed.length).toBe(confirmedBefore + 1);
  });
});
