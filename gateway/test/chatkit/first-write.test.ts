// threads.create starts the turn while the new thread and its first message commit: no event goes out before
// the commit (the client reads the message's event as "stored"), and the turn's own writes come after it.
import { describe, expect, it, vi } from "vitest";
import { AgentTurnError, type PageContext, type TurnInput } from "../../src/agent/contract.ts";
import { parseChatKitRequest } from "../../src/chatkit/router.ts";
import { createChatKitServer } from "../../src/chatkit/server.ts";
import { createChatStore } from "../../src/chatkit/store.ts";
import type { ThreadStreamEvent } from "../../src/chatkit/types.ts";
import { ensureUsers } from "../support/database.ts";
import { silentLogger } from "../support/mcp.ts";
import { databaseForFile } from "../support/suite.ts";
import { eventShape } from "./fixtures.ts";
import { create, ScriptedAgent, say } from "./support.ts";

const database = databaseForFile();

let users = 0;

/** The ChatKit server with a store whose createThread waits for `commit` (and may then fail). */
async function serverWithSlowCommit(agent: ScriptedAgent, page?: PageContext) {
  const userId = `first-write-${process.pid}-${++users}`;
  await ensureUsers(database, userId);
  const store = createChatStore(database.db, userId);
  let commit!: (fail?: Error) => void;
  const committed = new Promise<Error | undefined>((resolve) => {
    commit = resolve;
  });
  const slowStore = {
    ...store,
    async createThread(...args: Parameters<typeof store.createThread>) {
      const failure = await committed;
      if (failure) throw failure;
      await store.createThread(...args);
    },
  };
  const server = createChatKitServer({
    agent,
    tasks: { call: () => Promise.reject(new Error("no tools here")) },
  });
  const controller = new AbortController();
  const processing = server.process(
    {
      user: { id: userId, timezone: "UTC" },
      locale: "en-GB",
      store: slowStore,
      page,
      signal: controller.signal,
      log: silentLogger,
      turnLimited: Promise.resolve(false),
      turnsPerMinute: 100,
    },
    parseChatKitRequest(create("add buy milk")),
  );
  return { store, processing, commit };
}

async function eventsOf(result: Awaited<ReturnType<ReturnType<typeof createChatKitServer>["process"]>>) {
  if (!("stream" in result)) throw new Error("expected a stream");
  const events: ThreadStreamEvent[] = [];
  for await (const event of result.stream) events.push(event);
  return events;
}

describe("threads.create while its first write commits", () => {
  it("starts the turn, sends nothing until the commit, then every event in order and the turn stored", async () => {
    const agent = new ScriptedAgent(() => say("Added."));
    const { store, processing, commit } = await serverWithSlowCommit(agent);
    let answered = false;
    void processing.then(() => {
      answered = true;
    });
    // The agent runs while the commit is pending, told that its tools must wait for it.
    await vi.waitFor(() => expect(agent.turns).toHaveLength(1));
    const input = agent.turns[0] as TurnInput;
    expect(input.stored).toBeInstanceOf(Promise);
    expect(answered).toBe(false);

    commit();
    const events = await eventsOf(await processing);
    expect(events.map((e) => eventShape(e as unknown as Record<string, unknown>))).toEqual([
      "thread.created",
      "thread.item.done(user_message)",
      "stream_options",
      "thread.item.added(assistant_message)",
      "thread.item.updated[assistant_message.content_part.added]",
      "thread.item.updated[assistant_message.content_part.text_delta]",
      "thread.item.updated[assistant_message.content_part.text_delta]",
      "thread.item.updated[assistant_message.content_part.text_delta]",
      "thread.item.updated[assistant_message.content_part.done]",
      "thread.item.done(assistant_message)",
      "thread.updated",
    ]);
    const threadId = (events[0] as { thread: { id: string } }).thread.id;
    const stored = await store.loadThreadItems(threadId, { limit: 10, order: "asc" });
    expect(stored.data.map((i) => i.type)).toEqual(["user_message", "assistant_message"]);
    expect((await store.loadThread(threadId)).title).toBe("add buy milk");
  });

  it("answers with the failure when the thread cannot be stored, and stops the turn it started", async () => {
    let signal: AbortSignal | undefined;
    const agent = new ScriptedAgent(async function* (input) {
      signal = input.signal;
      await new Promise((resolve) => input.signal.addEventListener("abort", resolve, { once: true }));
      yield* say("Too late.");
    });
    const { processing, commit } = await serverWithSlowCommit(agent);
    await vi.waitFor(() => expect(agent.turns).toHaveLength(1));
    commit(new Error("connection lost"));
    await expect(processing).rejects.toThrow("connection lost");
    await vi.waitFor(() => expect(signal?.aborted).toBe(true));
  });

  it("keeps what a turn that failed at once had stored, once the thread is there", async () => {
    const agent = new ScriptedAgent(() => ({
      [Symbol.asyncIterator]: () => ({
        next: () => Promise.reject(new AgentTurnError("The model is unavailable.", true)),
      }),
    }));
    const page = { url: "https://example.com/", title: "Example" };
    const { store, processing, commit } = await serverWithSlowCommit(agent, page);
    await vi.waitFor(() => expect(agent.turns).toHaveLength(1));
    commit();
    const events = await eventsOf(await processing);
    expect(events.at(-1)).toMatchObject({ type: "error", message: "The model is unavailable." });
    const threadId = (events[0] as { thread: { id: string } }).thread.id;
    const stored = await store.loadThreadItems(threadId, { limit: 10, order: "asc" });
    // The page note the turn wrote before it failed is kept: its write waited for the thread's.
    expect(stored.data.map((i) => i.type)).toEqual(["user_message", "hidden_context_item"]);
  });
});
