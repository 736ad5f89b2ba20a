import { beforeAll, describe, expect, it } from "vitest";
import type { AgentEvent } from "../../src/agent/contract.ts";
import { createChatStore } from "../../src/chatkit/store.ts";
import { page, thread, threadItem, threadStreamEvent } from "../../src/chatkit/types.ts";
import { eventShape, readFixture, readSseFile } from "./fixtures.ts";
import { type ChatResponse, chatHarnessForFile, create, say } from "./support.ts";

// The contract with the Python reference server: its golden fixtures' requests, replayed in order against
// this server (ids mapped to ours), must produce event sequences of the same shape and order as its streams.

type Step = {
  step: number;
  type: string;
  request: string | Record<string, unknown>;
  sse?: string;
  response?: string;
  event_types?: string[];
};
const replay = readFixture("replay.json") as { steps: Step[] };
const step = (n: number) => replay.steps.find((s) => s.step === n)!;

const { database, chat } = chatHarnessForFile();
let token: string;
let userId: string;
/** Fixture id → our id (threads, items, tasks), filled in as the replay goes. */
const ids = new Map<string, string>();

beforeAll(async () => {
  token = await chat.user("contract@example.com");
  userId = (await chat.auth.api.getSession({ headers: new Headers({ authorization: `Bearer ${token}` }) }))!
    .user.id;
});

/** A fixture request with every fixture id replaced by ours, and the fixture's todo actions named as ours. */
function mapped(request: Step["request"]): unknown {
  const body = typeof request === "string" ? readFixture(request) : request;
  return JSON.parse(JSON.stringify(body), (_key, value) => {
    if (typeof value !== "string") return value;
    if (ids.has(value)) return ids.get(value);
    return value === "todo.toggle" ? "task.toggle" : value;
  });
}

/** Maps the ids of a fixture stream to ours, event by event, where the two streams have the same shape. */
function learnIds(fixture: Record<string, unknown>[], ours: Record<string, unknown>[]) {
  for (const [i, theirs] of fixture.entries()) {
    const mine = ours[i];
    if (!mine || eventShape(mine) !== eventShape(theirs)) continue;
    const t = (theirs.thread ?? theirs.item) as { id?: string } | undefined;
    const m = (mine.thread ?? mine.item) as { id?: string } | undefined;
    if (t?.id && m?.id) ids.set(t.id, m.id);
    if (typeof theirs.item_id === "string" && typeof mine.item_id === "string")
      ids.set(theirs.item_id, mine.item_id);
  }
}

async function replayStream(n: number, script: () => Iterable<AgentEvent> | AsyncIterable<AgentEvent>) {
  const s = step(n);
  chat.agent.script = script;
  const ours = await chat.post(token, mapped(s.request));
  expect(ours.status, JSON.stringify(ours.json)).toBe(200);
  const fixture = readSseFile(s.sse!);
  expect(fixture.map(eventShape)).toEqual(s.event_types);
  for (const event of ours.events)
    expect(threadStreamEvent.safeParse(event).success, JSON.stringify(event)).toBe(true);
  return { ours, fixture };
}

const expectSameShapes = (ours: ChatResponse, fixture: Record<string, unknown>[]) => {
  expect(ours.shapes).toEqual(fixture.map(eventShape));
  learnIds(fixture, ours.events);
};

/** A fixture's setup item, stored in our thread under a fresh id (our agent never makes this kind of item). */
async function storeSetupItem(sse: string, type: string, threadId: string) {
  const event = readSseFile(sse).find(
    (e) => e.type === "thread.item.done" && (e.item as { type: string }).type === type,
  )!;
  const item: Record<string, unknown> = { ...(event.item as Record<string, unknown>), thread_id: threadId };
  const ourId = `${type}_${Date.now()}`;
  ids.set(item.id as string, ourId);
  await createChatStore(database.db, userId).addThreadItem(
    threadId,
    threadItem.parse({ ...item, id: ourId }),
  );
}

describe("replaying the reference server's fixtures", () => {
  it("(a) threads.create: assistant text streamed, then the title", async () => {
    const { ours, fixture } = await replayStream(1, () => say("The capital of France is Paris."));
    expectSameShapes(ours, fixture);
  });

  it("(b) threads.add_user_message: a workflow of tool activity, then the answer", async () => {
    const { ours, fixture } = await replayStream(2, () => [
      {
        type: "tool.started",
        callId: "w",
        tool: "get_weather",
        args: { city: "Paris" },
        label: "Calling get_weather",
      },
      {
        type: "tool.finished",
        callId: "w",
        tool: "get_weather",
        args: {},
        ok: true,
        summary: "18 °C, partly cloudy",
        wrote: false,
      },
      // The fixture's second task is a completed "thought"; ours is a completed activity reported once.
      {
        type: "tool.finished",
        callId: "t",
        tool: "note",
        args: {},
        ok: true,
        summary: "Suggest a light jacket",
        wrote: false,
      },
      ...say("It's 18 °C and partly cloudy in Paris — a light jacket will do."),
    ]);
    expectSameShapes(ours, fixture);
  });

  it("threads.custom_action and threads.sync_custom_action on a task-list widget", async () => {
    // Setup (t2): a thread showing the user's todo list. Ours shows a listing after its workflow.
    const tasks = [];
    for (const title of ["Buy oat milk", "Book dentist appointment", "Renew passport"]) {
      const res = await chat.api("/api/tasks", token, { method: "POST", body: JSON.stringify({ title }) });
      tasks.push((await res.json()).task);
    }
    for (const [i, t] of tasks.entries()) ids.set(`task_${i + 1}`, t.id);
    const listed = await (await chat.api("/api/tasks", token)).json();
    const { ours, fixture } = await replayStream(3, () => [
      { type: "tool.started", callId: "l", tool: "list_tasks", args: {}, label: "Looking at your tasks" },
      {
        type: "tool.finished",
        callId: "l",
        tool: "list_tasks",
        args: {},
        ok: true,
        summary: "3 tasks",
        structured: listed,
        wrote: false,
      },
    ]);
    expect(ours.shapes.slice(0, 3)).toEqual(fixture.map(eventShape).slice(0, 3));
    expect(ours.shapes).toContain("thread.item.done(widget)");
    ids.set("thr_00000007", (ours.events[0] as { thread: { id: string } }).thread.id);
    ids.set(
      "msg_00000009",
      (ours.events.find((e) => eventShape(e) === "thread.item.done(widget)")!.item as { id: string }).id,
    );

    // Step 4: the reference answers with `widget.root.updated` (not persisted); we persist the change, as the
    // protocol advises for durable widget changes: `thread.item.replaced`, then the tasks.changed effect.
    const action = await replayStream(4, () => []);
    expect(action.ours.shapes[0]).toBe(action.fixture.map(eventShape)[0]);
    expect(action.ours.shapes).toEqual(["stream_options", "thread.item.replaced(widget)", "client_effect"]);
    expect((action.ours.events[1]!.item as { id: string }).id).toBe(ids.get("msg_00000009"));

    // Step 5: sync action → {updated_item: <the widget item>}, the same shape as the reference.
    const sync = await chat.post(token, mapped(step(5).request));
    const expected = readFixture(step(5).response!) as { updated_item: Record<string, unknown> };
    const got = sync.json as { updated_item: Record<string, unknown> };
    expect(Object.keys(got)).toEqual(Object.keys(expected));
    expect(Object.keys(got.updated_item).sort()).toEqual(Object.keys(expected.updated_item).sort());
    expect(threadItem.parse(got.updated_item).type).toBe("widget");
  });

  it("threads.add_structured_input: the answered item replaced, then the response", async () => {
    const setup = await replayStream(6, () => []);
    const threadId = (setup.ours.events[0] as { thread: { id: string } }).thread.id;
    ids.set("thr_0000000a", threadId);
    await storeSetupItem(
      "streams/setup/t3-threads.create-structured-input.sse",
      "structured_input",
      threadId,
    );
    const { ours, fixture } = await replayStream(7, () => [
      { type: "text.done", text: "Thanks — drafting a Science lesson with group work." },
    ]);
    expectSameShapes(ours, fixture);
    // The answers were applied the way the reference applies them.
    const theirs = fixture[1]!.item as { inputs: unknown; status: string };
    const mine = ours.events[1]!.item as { inputs: unknown; status: string };
    expect(mine.inputs).toEqual(theirs.inputs);
    expect(mine.status).toBe(theirs.status);
    expect(chat.agent.turns.at(-1)!.history.at(-1)).toMatchObject({
      content: expect.stringContaining("Which subject is this lesson for? → Science"),
    });
  });

  it("threads.add_client_tool_output: the pending call completed silently, then the response", async () => {
    const setup = await replayStream(8, () => []);
    const threadId = (setup.ours.events[0] as { thread: { id: string } }).thread.id;
    ids.set("thr_0000000e", threadId);
    await storeSetupItem(
      "streams/setup/t4-threads.create-client-tool-call.sse",
      "client_tool_call",
      threadId,
    );
    const { ours, fixture } = await replayStream(9, () => [
      { type: "text.done", text: "You have 2 nodes selected: a rectangle and a text box." },
    ]);
    expectSameShapes(ours, fixture);
    const call = await createChatStore(database.db, userId).loadItem(threadId, ids.get("tc_00000010")!);
    expect(call).toMatchObject({ status: "completed", output: { nodes: [{ id: "n1" }, { id: "n2" }] } });
  });

  it("threads.retry_after_item: newer items deleted without events, then a new response", async () => {
    const setup = await replayStream(10, () => [
      { type: "text.done", text: "Why did the scarecrow win an award? He was outstanding in his field." },
    ]);
    const setupFixture = readSseFile(step(10).sse!);
    expect(setup.ours.shapes).toEqual(setupFixture.map(eventShape));
    learnIds(setupFixture, setup.ours.events);
    const { ours, fixture } = await replayStream(11, () => [{ type: "text.done", text: "Another one." }]);
    expectSameShapes(ours, fixture);
    const items = (
      await chat.post(token, {
        type: "items.list",
        params: { thread_id: ids.get("thr_00000012"), order: "asc" },
      })
    ).json as { data: { id: string; type: string }[] };
    expect(items.data.map((i) => i.type)).toEqual(["user_message", "assistant_message"]);
    expect(items.data[1]!.id).not.toBe(ids.get("msg_00000014"));
  });

  it("a responder failure: one error event, then the stream ends", async () => {
    const { ours, fixture } = await replayStream(12, () => {
      throw new Error("boom");
    });
    expectSameShapes(ours, fixture);
    expect(ours.events.at(-1)).toMatchObject({ type: "error", code: "stream.error", allow_retry: true });
  });

  it("the JSON requests answer what the reference answers, in the same shapes", async () => {
    const json = async (n: number) => {
      const res = await chat.post(token, mapped(step(n).request));
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      expect(res.contentType).toMatch(/^application\/json/);
      return {
        ours: res.json as Record<string, unknown>,
        theirs: readFixture(step(n).response!) as Record<string, unknown>,
      };
    };
    const itemTypes = (p: { data: { type: string }[] }) => p.data.map((i) => i.type);
    const keys = (o: object) => Object.keys(o).sort();

    const got = await json(13); // threads.get_by_id: the thread with its first 20 items, oldest first
    expect(thread.safeParse(got.ours).success).toBe(true);
    expect(keys(got.ours)).toEqual(keys(got.theirs));
    expect(itemTypes(got.ours.items as never)).toEqual(itemTypes(got.theirs.items as never));
    expect(got.ours.id).toBe(ids.get("thr_00000001"));

    const items = await json(14); // items.list: newest first, a cursor to the next page
    expect(page(threadItem).safeParse(items.ours).success).toBe(true);
    expect(itemTypes(items.ours as never)).toEqual(itemTypes(items.theirs as never));
    expect(items.ours.has_more).toBe(true);
    expect(items.ours.after).toBe(ids.get(items.theirs.after as string));

    expect((await json(15)).ours).toEqual({}); // items.feedback
    const renamed = await json(16); // threads.update: the thread, items page empty
    expect(renamed.ours).toMatchObject({ title: "Paris questions", items: { data: [], has_more: false } });
    expect(keys(renamed.ours)).toEqual(keys(renamed.theirs));
    expect((await json(17)).ours).toEqual({}); // threads.delete

    const listed = await json(18); // threads.list: newest first, each with an empty items page
    const ourIds = (listed.ours.data as { id: string }[]).map((t) => t.id);
    const theirIds = (listed.theirs.data as { id: string }[]).map((t) => ids.get(t.id));
    expect(ourIds).toEqual(theirIds);
    expect(listed.ours.has_more).toBe(true);
    expect(listed.ours.after).toBe(ids.get(listed.theirs.after as string));
    expect(
      (listed.ours.data as { items: unknown }[]).every(
        (t) => JSON.stringify(t.items) === '{"data":[],"has_more":false}',
      ),
    ).toBe(true);
  });

  it("attachments and dictation, which Margin does not offer, answer 501 with a message", async () => {
    for (const n of [19, 20, 21]) {
      const res = await chat.post(token, mapped(step(n).request));
      expect(res.status).toBe(501);
      expect((res.json as { error: { message: string } }).error.message).toMatch(/not/);
    }
  });
});

describe("malformed requests", () => {
  const invalid = readFixture("invalid/_index.json") as { file: string }[];

  it.each(invalid)("$file answers 400 with a message, never a 500", async ({ file }) => {
    const res = await chat.post(token, readFixture(`invalid/${file}`));
    expect(res.status).toBe(400);
    expect((res.json as { error: { message: string } }).error.message.length).toBeGreaterThan(10);
  });

  it.each([
    ["not JSON", "{nope", /not valid JSON/],
    ["an array", "[]", /JSON object/],
    [
      "an unknown type",
      JSON.stringify({ type: "threads.archive", params: {} }),
      /Unknown request type "threads.archive"/,
    ],
    [
      "metadata that is not an object",
      JSON.stringify({ type: "threads.list", params: {}, metadata: 3 }),
      /metadata/,
    ],
    // Text Postgres can't store (jsonb refuses both): a 500 before.
    ["a NUL in a message", JSON.stringify(create("hi \u0000 there")), /NUL character/],
    ["a lone surrogate in a message", JSON.stringify(create("hi \ud800 there")), /lone surrogate/],
    [
      "a NUL in a thread id",
      JSON.stringify({ type: "threads.get_by_id", params: { thread_id: "a\u0000" } }),
      /NUL character/,
    ],
  ])("%s answers 400", async (_label, body, message) => {
    const res = await chat.post(token, body);
    expect(res.status).toBe(400);
    expect((res.json as { error: { message: string } }).error.message).toMatch(message);
  });

  it("asks for a sign-in without a session", async () => {
    const res = await chat.api("/chatkit", undefined, {
      method: "POST",
      body: JSON.stringify({ type: "threads.list", params: {} }),
    });
    expect(res.status).toBe(401);
  });
});

describe("another user's ids", () => {
  it("answers not found for another user's thread and item ids, and changes nothing of theirs", async () => {
    const owner = await chat.user("owner@example.com");
    const intruder = await chat.user("intruder@example.com");
    chat.agent.script = () => say("Private answer.");
    const created = await chat.post(owner, {
      type: "threads.create",
      params: {
        input: {
          content: [{ type: "input_text", text: "my private plans" }],
          attachments: [],
          inference_options: {},
        },
      },
    });
    const threadId = (created.events[0] as { thread: { id: string } }).thread.id;
    const userMsgId = (created.events[1]!.item as { id: string }).id;
    const input = { content: [{ type: "input_text", text: "x" }], attachments: [], inference_options: {} };
    const attempts: [string, Record<string, unknown>][] = [
      ["threads.get_by_id", { thread_id: threadId }],
      ["items.list", { thread_id: threadId }],
      ["items.feedback", { thread_id: threadId, item_ids: [userMsgId], kind: "negative" }],
      ["threads.update", { thread_id: threadId, title: "pwned" }],
      ["threads.delete", { thread_id: threadId }],
      ["threads.add_user_message", { thread_id: threadId, input }],
      ["threads.retry_after_item", { thread_id: threadId, item_id: userMsgId }],
      ["threads.add_client_tool_output", { thread_id: threadId, result: {} }],
      ["threads.add_structured_input", { thread_id: threadId, item_id: userMsgId, input: {} }],
      ["threads.custom_action", { thread_id: threadId, item_id: userMsgId, action: { type: "task.toggle" } }],
      [
        "threads.sync_custom_action",
        { thread_id: threadId, item_id: userMsgId, action: { type: "task.toggle" } },
      ],
      ["items.list", { thread_id: threadId, after: userMsgId }],
    ];
    const turns = chat.agent.turns.length;
    for (const [type, params] of attempts) {
      const res = await chat.post(intruder, { type, params });
      expect(res.status, type).toBe(404);
      expect(res.json, type).toEqual({ error: { code: "not_found", message: "No such thread." } });
    }
    // The intruder's own thread with the owner's item id: the item is "not found" too.
    const own = await chat.post(intruder, {
      type: "threads.create",
      params: { input },
    });
    const ownThread = (own.events[0] as { thread: { id: string } }).thread.id;
    for (const [type, params] of [
      ["threads.retry_after_item", { thread_id: ownThread, item_id: userMsgId }],
      ["items.list", { thread_id: ownThread, after: userMsgId }],
      ["items.feedback", { thread_id: ownThread, item_ids: [userMsgId], kind: "negative" }],
      [
        "threads.sync_custom_action",
        { thread_id: ownThread, item_id: userMsgId, action: { type: "task.toggle" } },
      ],
    ] as const) {
      const res = await chat.post(intruder, { type, params });
      expect(res.status, type).toBe(404);
      expect(res.json, type).toEqual({ error: { code: "not_found", message: "No such item." } });
    }
    expect(chat.agent.turns.length).toBe(turns + 1);
    const mine = (await chat.post(owner, { type: "threads.get_by_id", params: { thread_id: threadId } }))
      .json as {
      title: string;
      items: { data: unknown[] };
    };
    expect(mine.title).toBe("my private plans");
    expect(mine.items.data).toHaveLength(2);
  });
});
