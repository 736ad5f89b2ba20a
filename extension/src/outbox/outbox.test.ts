import { beforeEach, describe, expect, it } from "vitest";
import { fakeBrowser } from "wxt/testing/fake-browser";
import { ApiError, GatewayUnreachableError } from "../api/errors.ts";
import type { NewTask, Task } from "../api/schemas.ts";
import { makeTask } from "../test-support/tasks.ts";
import { backoffMs, createOutbox, type OutboxEntry, outboxItem, SignedOutError } from "./outbox.ts";

/** A gateway stand-in that honours Idempotency-Key like the real one: same key → same task. */
function fakeGateway() {
  const byKey = new Map<string, Task>();
  let mode: "up" | "down" | "lose-response" | "signed-out" = "up";
  const calls: string[] = [];
  return {
    byKey,
    calls,
    set: (m: typeof mode) => {
      mode = m;
    },
    async send(entry: OutboxEntry): Promise<Task> {
      calls.push(entry.id);
      if (mode === "down") throw new GatewayUnreachableError("connection refused");
      if (mode === "signed-out") throw new SignedOutError();
      if (entry.task.title.length > 500)
        throw new ApiError(400, "invalid_input", "title: at most 500 characters");
      const task = byKey.get(entry.id) ?? makeTask({ title: entry.task.title });
      byKey.set(entry.id, task);
      // The server committed, but the answer never arrived (timeout, dropped connection).
      if (mode === "lose-response") throw new GatewayUnreachableError("socket hang up");
      return task;
    },
  };
}

function setup(gateway = fakeGateway(), clock = { t: 1_000_000 }) {
  const wakes: (number | null)[] = [];
  const delivered: Task[] = [];
  let ids = 0;
  const outbox = createOutbox({
    send: (e) => gateway.send(e),
    onDelivered: (_e, t) => void delivered.push(t),
    scheduleWake: (at) => void wakes.push(at),
    now: () => clock.t,
    random: () => 0.5,
    newId: () => `capture-${++ids}`,
  });
  return { outbox, gateway, clock, wakes, delivered };
}

const task = (title: string): NewTask => ({ title, source: { url: "https://example.com/a", title } });

describe("outbox", () => {
  beforeEach(() => fakeBrowser.reset());

  it("stores a capture before sending it, then removes it once the server confirms", async () => {
    const { outbox, gateway, delivered } = setup();
    const entry = await outbox.enqueue(task("read later"), "panel");
    await outbox.idle();
    expect(gateway.calls).toEqual([entry.id]);
    expect(delivered.map((t) => t.title)).toEqual(["read later"]);
    expect(await outboxItem.getValue()).toEqual([]);
  });

  it("keeps captures while the gateway is down and retries with growing delays", async () => {
    const { outbox, gateway, clock, wakes } = setup();
    gateway.set("down");
    await outbox.enqueue(task("one"), "menu");
    await outbox.enqueue(task("two"), "menu");
    await outbox.idle();
    const stored = await outboxItem.getValue();
    expect(stored.map((e) => [e.task.title, e.state])).toEqual([
      ["one", "pending"],
      ["two", "pending"],
    ]);
    expect(stored[0]!.lastError).toMatch(/Can't reach/);
    // The first retry is ~5 s out; the alarm is set for it.
    expect(wakes.at(-1)).toBe(clock.t + 5000);

    clock.t = wakes.at(-1)!;
    await outbox.flush();
    expect(wakes.at(-1)).toBe(clock.t + 10_000);
    clock.t = wakes.at(-1)!;
    await outbox.flush();
    expect(wakes.at(-1)).toBe(clock.t + 20_000);

    gateway.set("up");
    clock.t = wakes.at(-1)!;
    const sent = await outbox.flush();
    expect(sent.map((t) => t.title)).toEqual(["one", "two"]);
    expect(await outboxItem.getValue()).toEqual([]);
    expect(wakes.at(-1)).toBeNull();
    expect(gateway.byKey.size).toBe(2);
  });

  it("does not resend before the backoff is over", async () => {
    const { outbox, gateway, clock } = setup();
    gateway.set("down");
    await outbox.enqueue(task("waits"), "menu");
    await outbox.idle();
    const before = gateway.calls.length;
    clock.t += 1000;
    await outbox.flush();
    expect(gateway.calls.length).toBe(before);
  });

  it("a retry after a lost response makes no duplicate: the same id goes as the Idempotency-Key", async () => {
    const { outbox, gateway, clock } = setup();
    gateway.set("lose-response");
    const entry = await outbox.enqueue(task("exactly once"), "command");
    await outbox.idle();
    expect((await outboxItem.getValue()).map((e) => e.id)).toEqual([entry.id]);
    gateway.set("up");
    clock.t += 60_000;
    await outbox.flush();
    expect(gateway.calls).toEqual([entry.id, entry.id]);
    expect(gateway.byKey.size).toBe(1);
    expect(await outboxItem.getValue()).toEqual([]);
  });

  it("survives a restart: a new outbox over the same storage sends what the old one kept", async () => {
    const gateway = fakeGateway();
    gateway.set("down");
    const first = setup(gateway);
    await first.outbox.enqueue(task("before restart"), "menu");
    await first.outbox.idle();

    gateway.set("up");
    const afterRestart = setup(gateway, { t: first.clock.t + 3_600_000 });
    const sent = await afterRestart.outbox.flush();
    expect(sent.map((t) => t.title)).toEqual(["before restart"]);
    expect(gateway.byKey.size).toBe(1);
  });

  it("waits while signed out, and sends at once on retryAll (sign-in)", async () => {
    const { outbox, gateway } = setup();
    gateway.set("signed-out");
    await outbox.enqueue(task("while signed out"), "menu");
    await outbox.idle();
    expect((await outboxItem.getValue())[0]!.lastError).toBe("Waiting for sign-in.");
    gateway.set("up");
    const sent = await outbox.retryAll();
    expect(sent.map((t) => t.title)).toEqual(["while signed out"]);
  });

  it("keeps a capture the server refuses, with its message, until it is edited and sent again", async () => {
    const { outbox, gateway } = setup();
    const entry = await outbox.enqueue({ title: "x".repeat(600) }, "panel");
    await outbox.idle();
    const [kept] = await outboxItem.getValue();
    expect(kept).toMatchObject({
      id: entry.id,
      state: "rejected",
      rejection: { status: 400, message: "title: at most 500 characters" },
    });

    // A refused capture does not block the ones after it.
    await outbox.enqueue(task("fine"), "panel");
    await outbox.idle();
    expect((await outboxItem.getValue()).map((e) => e.state)).toEqual(["rejected"]);

    const sent = await outbox.edit(entry.id, { title: "shorter" });
    expect(sent.map((t) => t.title)).toEqual(["shorter"]);
    expect(await outboxItem.getValue()).toEqual([]);
    expect([...gateway.byKey.keys()]).toContain(entry.id);
  });

  it("discards a refused capture only when asked", async () => {
    const { outbox } = setup();
    const entry = await outbox.enqueue({ title: "x".repeat(600) }, "panel");
    await outbox.idle();
    await outbox.discard(entry.id);
    expect(await outboxItem.getValue()).toEqual([]);
  });

  it("serialises concurrent captures: none overwrites another in storage", async () => {
    const gateway = fakeGateway();
    gateway.set("down");
    const { outbox } = setup(gateway);
    await Promise.all(Array.from({ length: 10 }, (_, i) => outbox.enqueue(task(`c${i}`), "menu")));
    await outbox.idle();
    expect((await outboxItem.getValue()).map((e) => e.task.title).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `c${i}`).sort(),
    );
  });
});

describe("backoffMs", () => {
  it("doubles from 5 s up to 10 minutes, with ±20 % jitter", () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4].map((n) => backoffMs(n, mid))).toEqual([5000, 10_000, 20_000, 40_000]);
    expect(backoffMs(30, mid)).toBe(600_000);
    expect(backoffMs(1, () => 0)).toBe(4000);
    expect(backoffMs(1, () => 1)).toBe(6000);
  });
});
