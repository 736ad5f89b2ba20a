// What the offline model's answers look like in the chat, through the real gateway, agent, MCP server and
// database: the words and the widgets the user sees.
import { describe, expect, it } from "vitest";
import { addMessage, create, createdThreadId, itemsOf } from "../chatkit/support.ts";
import { databaseForFileWith } from "../support/suite.ts";
import { offlineModels, type RealChat, startRealChat } from "./harness.ts";

const { started: chat } = databaseForFileWith((database) => startRealChat(database, offlineModels));

const answers = (r: Awaited<ReturnType<RealChat["post"]>>) =>
  itemsOf(r, "assistant_message").map((i) => (i.content as { text: string }[]).map((c) => c.text).join(""));
const rowTitles = (widget: { children: { children: { type: string; value?: string }[] }[] }) =>
  widget.children.map((row) => row.children.find((c) => c.type === "Text")?.value);

describe("the offline model's list answer", () => {
  it("shows the list once, as the widget, under a short count; 'the second one' then means its second row", async () => {
    const token = await chat.user("offline-list@example.com");
    for (const body of [
      { title: "Pay rent", due: "tomorrow 9am" },
      { title: "Call mum", due: "in 3 days" },
      { title: "Read a novel" },
    ]) {
      const res = await chat.api("/api/tasks", token, { method: "POST", body: JSON.stringify(body) });
      expect(res.status).toBe(201);
    }
    const listed = await chat.post(token, create("show my tasks"));
    const [widget] = itemsOf(listed, "widget");
    expect(rowTitles(widget!.widget as never)).toEqual(["Pay rent", "Call mum", "Read a novel"]);
    // The tasks are not repeated as text under the list, and no ISO date shows.
    expect(answers(listed)).toEqual(["3 open tasks."]);

    const picked = await chat.post(token, addMessage(createdThreadId(listed), "complete the second one"));
    expect(picked.status).toBe(200);
    const done = (await chat.tasks(token)).filter((t) => t.status === "completed").map((t) => t.title);
    expect(done).toEqual(["Call mum"]);
  });
});

describe("a change to a task named by its title", () => {
  it("shows what changed, not the list it looked the task up in, as it was before", async () => {
    const token = await chat.user("offline-lookup@example.com");
    for (const title of ["Buy milk", "Call mum", "Call the bank"]) {
      const res = await chat.api("/api/tasks", token, { method: "POST", body: JSON.stringify({ title }) });
      expect(res.status).toBe(201);
    }
    const completed = await chat.post(token, create("complete buy milk"));
    expect(answers(completed)).toEqual(["Completed “Buy milk”."]);
    expect(itemsOf(completed, "widget")).toEqual([]);

    // A question back keeps the tasks it asks about in view, under the question.
    const asked = await chat.post(token, create("move call to friday"));
    expect(answers(asked)[0]).toMatch(/^Which one\? “Call mum”, “Call the bank”/);
    const [widget] = itemsOf(asked, "widget");
    expect(rowTitles(widget!.widget as never)).toEqual(["Call mum", "Call the bank"]);
    const items = asked.shapes.filter((s) => s.startsWith("thread.item.done"));
    expect(items.indexOf("thread.item.done(widget)")).toBeGreaterThan(
      items.indexOf("thread.item.done(assistant_message)"),
    );
  });
});

describe("a message that is only a task", () => {
  it("adds it at once, with no confirmation card", async () => {
    const token = await chat.user("offline-bare@example.com");
    const r = await chat.post(token, create("milk"));
    expect(r.status).toBe(200);
    expect(itemsOf(r, "widget")).toEqual([]);
    expect(r.events.some((e) => e.type === "client_effect")).toBe(true);
    expect((await chat.tasks(token)).map((t) => [t.title, t.status])).toEqual([["milk", "pending"]]);
  });
});

describe("times in the task list widget", () => {
  const badges = (r: Awaited<ReturnType<RealChat["post"]>>) =>
    itemsOf(r, "widget").flatMap((i) =>
      (i.widget as { children: { children: { type: string; label?: string }[] }[] }).children.flatMap((row) =>
        row.children.flatMap((c) => (c.type === "Badge" ? [c.label] : [])),
      ),
    );

  it("follow the locale the client sends (hour cycle included), else Accept-Language, else 24-hour", async () => {
    const token = await chat.user("offline-clock@example.com");
    const res = await chat.api("/api/tasks", token, {
      method: "POST",
      body: JSON.stringify({ title: "Call mum", due: "tomorrow 5pm" }),
    });
    expect(res.status).toBe(201);
    const list = (metadata?: Record<string, unknown>, headers?: Record<string, string>) =>
      chat.post(token, create("show my tasks", metadata), headers ? { headers } : {}).then(badges);

    expect(await list({ locale: "en-US-u-hc-h12" })).toEqual(["tomorrow 5:00 PM"]);
    expect(await list({ locale: "en-US-u-hc-h23" }, { "accept-language": "en-US" })).toEqual([
      "tomorrow 17:00",
    ]);
    expect(await list(undefined, { "accept-language": "en-US,en;q=0.9" })).toEqual(["tomorrow 5:00 PM"]);
    expect(await list()).toEqual(["tomorrow 17:00"]);
  });

  it("and in the offline model's own answers, with days in words and nothing meant for the model", async () => {
    const token = await chat.user("offline-clock-answer@example.com");
    const r = await chat.post(
      token,
      create("add water the plants tomorrow 9am", { locale: "en-US-u-hc-h12" }),
    );
    expect(answers(r)).toEqual(["Added “water the plants” · due tomorrow 9:00 AM."]);
    // The workflow line above it too (the model's note keeps the ISO date it reads).
    const [workflow] = itemsOf(r, "workflow");
    expect((workflow!.workflow as { tasks: { title: string }[] }).tasks.map((t) => t.title)).toEqual([
      "Added 'water the plants' · due tomorrow 9:00 AM",
    ]);
  });

  it("stay in the client's locale when a row is redrawn after its checkbox", async () => {
    const token = await chat.user("offline-clock-toggle@example.com");
    await chat.api("/api/tasks", token, {
      method: "POST",
      body: JSON.stringify({ title: "Call mum", due: "tomorrow 5pm" }),
    });
    await chat.api("/api/tasks", token, {
      method: "POST",
      body: JSON.stringify({ title: "Pay rent", due: "tomorrow 9am" }),
    });
    const metadata = { locale: "en-US-u-hc-h12" };
    const listed = await chat.post(token, create("show my tasks", metadata));
    const [item] = itemsOf(listed, "widget");
    const rows = (item!.widget as { children: { key: string }[] }).children;
    // Ticked (the row loses its due), then unticked: the row is drawn again from the task, due and all.
    const toggle = () =>
      chat.post(token, {
        type: "threads.sync_custom_action",
        params: {
          thread_id: createdThreadId(listed),
          item_id: item!.id,
          action: { type: "task.toggle", payload: { task_id: rows[0]!.key } },
        },
        metadata,
      });
    await toggle();
    const synced = await toggle();
    const widget = (synced.json as { updated_item: { widget: unknown } }).updated_item.widget;
    expect(JSON.stringify(widget)).toContain('"label":"tomorrow 9:00 AM"');
    expect(JSON.stringify(widget)).toContain('"label":"tomorrow 5:00 PM"');
  });
});
