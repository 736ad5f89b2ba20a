import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addMessage, create, createdThreadId, itemsOf } from "../chatkit/support.ts";
import { readSse } from "../support/gateway.ts";
import { type McpHttpHarness, startMcpHttpHarness } from "../support/mcp.ts";
import { databaseForFile } from "../support/suite.ts";
import { drivers, type ModelDriver, type RealChat, startRealChat, toolThenSay } from "./harness.ts";

// End to end: ChatKit SSE → the real agent → the real MCP server → Postgres / PGlite, and back out on the
// change feed. Only the model is a stand-in: the SDK's ScriptedModel, or a fake OpenAI-compatible server that
// the real provider code talks to over HTTP.

const database = databaseForFile();

describe.each(Object.entries(drivers))("with %s", (_name, makeDriver) => {
  let driver: ModelDriver;
  let chat: RealChat;
  beforeAll(async () => {
    driver = await makeDriver();
    chat = await startRealChat(database, driver.models);
  });
  afterAll(async () => {
    await chat?.close();
    await driver?.close();
  });

  it("adds a task: the turn streams, MCP writes it, and the change arrives on /api/changes", async () => {
    const token = await chat.user("add@example.com");
    const changes = readSse(await chat.api("/api/changes", token));
    const othersChanges = readSse(await chat.api("/api/changes", await chat.user("bystander@example.com")));
    await changes.waitFor((events) => events.some((e) => e.event === "ready"));
    await othersChanges.waitFor((events) => events.some((e) => e.event === "ready"));
    try {
      driver.script(toolThenSay("add_task", { title: "Buy milk", due: "tomorrow 17:00" }, "Added Buy milk."));
      const r = await chat.post(token, create("add buy milk tomorrow at 5pm"));
      expect(r.status).toBe(200);
      expect(r.events.some((e) => e.type === "error")).toBe(false);
      const [workflow] = itemsOf(r, "workflow") as unknown as { workflow: { tasks: { title: string }[] } }[];
      expect(workflow!.workflow.tasks[0]!.title).toMatch(/Buy milk/);
      const effect = r.events.find((e) => e.type === "client_effect") as {
        name: string;
        data: { ids: string[] };
      };
      expect(effect.name).toBe("tasks.changed");
      const [answer] = itemsOf(r, "assistant_message") as unknown as { content: { text: string }[] }[];
      expect(answer!.content[0]!.text).toBe("Added Buy milk.");

      const [task] = await chat.tasks(token);
      expect(task).toMatchObject({ title: "Buy milk", status: "pending" });
      expect(effect.data.ids).toEqual([task!.id]);
      await changes.waitFor(() => changes.changes().some((c) => c.task_id === task!.id));
      expect(othersChanges.changes()).toEqual([]);
    } finally {
      await changes.close();
      await othersChanges.close();
    }
  });

  it("carries history across turns: the second model request holds the first exchange", async () => {
    const token = await chat.user("history@example.com");
    driver.script(toolThenSay("add_task", { title: "Water the plants" }, "Added Water the plants."));
    const first = await chat.post(token, create("remind me to water the plants"));
    const threadId = createdThreadId(first);
    const before = driver.seen.length;
    driver.script(() => ({ say: "You asked me to add Water the plants." }));
    const second = await chat.post(token, addMessage(threadId, "what did I just ask you?"));
    expect(second.events.some((e) => e.type === "error")).toBe(false);
    const read = driver.seen[before]!;
    expect(read.lastUser).toBe("what did I just ask you?");
    expect(read.read).toContain("remind me to water the plants");
    expect(read.read).toContain("Added Water the plants.");
  });

  it("completes a task from a ListView widget's checkbox (threads.custom_action)", async () => {
    const token = await chat.user("widget@example.com");
    const milk = await chat.addTask(token, "Buy milk");
    await chat.addTask(token, "Call mum");
    driver.script(toolThenSay("list_tasks", { status: "pending" }, "Here are your tasks."));
    const listed = await chat.post(token, create("what's on my list?"));
    const threadId = createdThreadId(listed);
    const [widget] = itemsOf(listed, "widget");
    expect((widget as unknown as { widget: { type: string } }).widget.type).toBe("ListView");

    const r = await chat.post(token, {
      type: "threads.custom_action",
      params: {
        thread_id: threadId,
        item_id: widget!.id,
        action: { type: "task.toggle", payload: { task_id: milk.id } },
      },
    });
    expect(r.shapes).toEqual(["stream_options", "thread.item.replaced(widget)", "client_effect"]);
    const done = (await chat.tasks(token)).find((t) => t.id === milk.id);
    expect(done!.status).toBe("completed");
    const stored = (await chat.storedItems(token, threadId)).find((i) => i.id === widget!.id);
    expect(JSON.stringify(stored)).toContain('"defaultChecked":true');
  });

  it("stops the run when the client goes away, saves the partial answer and records the cancellation", async () => {
    const token = await chat.user("cancel@example.com");
    driver.script(() => ({ say: "Hello." }));
    const threadId = createdThreadId(await chat.post(token, create("hi")));
    driver.script(() => ({ stall: "Here is the first part" }));
    const abort = new AbortController();
    const res = await chat.api("/chatkit", token, {
      method: "POST",
      body: JSON.stringify(addMessage(threadId, "tell me a long story")),
      signal: abort.signal,
    });
    const reader = res.body!.getReader();
    let seen = "";
    while (!seen.includes("Here is the first part"))
      seen += new TextDecoder().decode((await reader.read()).value);
    await driver.stalled();
    abort.abort();
    await driver.cancelled();

    await expect
      .poll(async () => (await chat.storedItems(token, threadId)).slice(-3).map((i) => i.type), {
        timeout: 5000,
      })
      .toEqual(["user_message", "assistant_message", "sdk_hidden_context"]);
    const stored = await chat.storedItems(token, threadId);
    expect(JSON.stringify(stored.at(-2))).toContain("Here is the first part");
    expect(JSON.stringify(stored.at(-1))).toContain("cancelled");
  });

  it("answers 10 concurrent turns of 10 users, each touching only their own tasks", async () => {
    const users = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const token = await chat.user(`concurrent-${i}@example.com`);
        await chat.addTask(token, `errand of user ${i}`);
        return { i, token };
      }),
    );
    // Each turn lists the user's tasks, then adds one named after whoever asked.
    driver.script((seen) => {
      const who = /user (\d+)/.exec(seen.lastUser)![1];
      if (seen.toolResults.length === 0) return { call: "list_tasks", args: {} };
      if (seen.toolResults.length === 1)
        return { call: "add_task", args: { title: `new task of user ${who}` } };
      return { say: `Done for user ${who}.` };
    });
    const before = driver.seen.length;
    const turns = await Promise.all(
      users.map(({ i, token }) => chat.post(token, create(`I am user ${i}: add one`))),
    );
    for (const turn of turns) expect(turn.events.some((e) => e.type === "error")).toBe(false);
    for (const { i, token } of users) {
      const titles = (await chat.tasks(token)).map((t) => t.title).sort();
      expect(titles).toEqual([`errand of user ${i}`, `new task of user ${i}`]);
    }
    // What each model call was shown of the list belonged to the user who asked.
    const listings = driver.seen.slice(before).filter((s) => s.toolResults.length === 1);
    expect(listings).toHaveLength(10);
    for (const seen of listings) {
      const who = /user (\d+)/.exec(seen.lastUser)![1];
      expect(seen.toolResults[0]).toContain(`errand of user ${who}`);
      expect(seen.toolResults[0]!.match(/errand of user \d+/g)).toEqual([`errand of user ${who}`]);
    }
  }, 90_000); // ten sign-ups (scrypt) and thirty model calls on a shared 2-core machine
});

describe.each(Object.entries(drivers))("failures, with %s", (_name, makeDriver) => {
  let driver: ModelDriver;
  beforeAll(async () => {
    driver = await makeDriver();
  });
  afterAll(() => driver?.close());

  it("MCP server down: a clear error event, and the thread is saved with the user's message", async () => {
    const mcp: McpHttpHarness = await startMcpHttpHarness(database);
    const chat = await startRealChat(database, driver.models, { mcp });
    await mcp.close();
    try {
      const token = await chat.user("mcp-down@example.com");
      driver.script(toolThenSay("add_task", { title: "Buy milk" }, "Added."));
      const r = await chat.post(token, create("add buy milk"));
      expect(r.status).toBe(200);
      const error = r.events.at(-1) as { type: string; message: string; allow_retry: boolean };
      expect(error.type).toBe("error");
      expect(error.message).toMatch(/task|list/i);
      expect(error.message).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|fetch failed|An error occurred/);
      const threadId = createdThreadId(r);
      const thread = (await chat.post(token, { type: "threads.get_by_id", params: { thread_id: threadId } }))
        .json as { items: { data: { type: string; content?: { text: string }[] }[] } };
      expect(thread.items.data[0]).toMatchObject({
        type: "user_message",
        content: [{ text: "add buy milk" }],
      });
    } finally {
      await chat.close();
    }
  });
});

describe("provider failures (fake OpenAI-compatible server)", () => {
  let driver: ModelDriver;
  let chat: RealChat;
  beforeAll(async () => {
    driver = await drivers["fake OpenAI-compatible server"]();
    chat = await startRealChat(database, driver.models);
  });
  afterAll(async () => {
    await chat?.close();
    await driver?.close();
  });

  it("retries a 429, honouring Retry-After, then answers", async () => {
    const token = await chat.user("ratelimited@example.com");
    driver.script(toolThenSay("add_task", { title: "Pay rent" }, "Added Pay rent."));
    const provider = driver.provider!;
    const before = provider.requests.length;
    provider.failNext(1, 429, 1);
    const started = performance.now();
    const r = await chat.post(token, create("add pay rent"));
    expect(r.events.some((e) => e.type === "error")).toBe(false);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(provider.requests.length - before).toBe(3); // 429, the tool call, the answer
    expect((await chat.tasks(token)).map((t) => t.title)).toEqual(["Pay rent"]);
  });

  it("retries 5xx answers, then answers", async () => {
    const token = await chat.user("flaky@example.com");
    driver.script(() => ({ say: "Hello there." }));
    driver.provider!.failNext(2, 503);
    const r = await chat.post(token, create("hello"));
    expect(r.events.some((e) => e.type === "error")).toBe(false);
    const [answer] = itemsOf(r, "assistant_message") as unknown as { content: { text: string }[] }[];
    expect(answer!.content[0]!.text).toBe("Hello there.");
  });

  it("a provider that keeps failing becomes an error event a user understands", async () => {
    const token = await chat.user("down-provider@example.com");
    driver.provider!.failNext(20, 500);
    const r = await chat.post(token, create("hello"));
    const error = r.events.at(-1) as { type: string; message: string };
    expect(error.type).toBe("error");
    expect(error.message).not.toMatch(/fake 500|An error occurred/);
    driver.provider!.failNext(0, 500);
  });
});
