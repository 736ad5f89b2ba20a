// What the offline model's answers look like in the chat, through the real gateway, agent, MCP server and
// database: the words and the widgets the user sees.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addMessage, create, createdThreadId, itemsOf } from "../chatkit/support.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { offlineModels, type RealChat, startRealChat } from "./harness.ts";

let database: TestDatabase;
let chat: RealChat;
beforeAll(async () => {
  database = await createTestDatabase();
  chat = await startRealChat(database, offlineModels);
});
afterAll(async () => {
  await chat?.close();
  await database?.destroy();
});

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
