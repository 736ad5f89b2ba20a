// A turn may start before the user's message is stored (its first model call overlapping the commit), but its
// tools wait for it: a message that failed to save has changed nothing.
import { describe, expect, it } from "vitest";
import { oneToolCall, RespondingModel } from "../chat/model.ts";
import { collect, newUser, rowsOf, taskWorldForFile } from "./support.ts";

const { database, world } = taskWorldForFile();

function deferred() {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Runs a one-tool turn with `stored` pending, up to the tool's start; `rest` is the rest of the turn. */
async function untilToolStarts(stored: Promise<void>) {
  const agent = world.agent(new RespondingModel(oneToolCall("add_task", { title: "Buy milk" }, "Added.")));
  const user = await newUser(database);
  const events = agent.runTurn({
    user,
    history: [],
    message: "add Buy milk",
    signal: new AbortController().signal,
    stored,
  });
  const iterator = events[Symbol.asyncIterator]();
  for (;;) {
    const next = await iterator.next();
    if (next.done) throw new Error("the turn ended before its tool started");
    if (next.value.type === "tool.started") break;
  }
  const rest = collect({ [Symbol.asyncIterator]: () => iterator });
  return { user, rest };
}

describe("a turn whose message is still being stored", () => {
  it("calls its tools only once the message is stored", async () => {
    const stored = deferred();
    const { user, rest } = await untilToolStarts(stored.promise);
    // The model asked for the tool; nothing reaches the task list while the message is not stored.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await rowsOf(database, user.id)).toEqual([]);
    stored.resolve();
    const events = await rest;
    expect(events.map((e) => e.type)).toEqual(["tool.finished", "text.delta", "text.done"]);
    expect((await rowsOf(database, user.id)).map((r) => r.title)).toEqual(["Buy milk"]);
  });

  it("calls no tool when the message could not be stored, and fails the turn", async () => {
    const stored = deferred();
    const { user, rest } = await untilToolStarts(stored.promise);
    stored.reject(new Error("connection lost"));
    await expect(rest).rejects.toThrow();
    expect(await rowsOf(database, user.id)).toEqual([]);
  });
});
