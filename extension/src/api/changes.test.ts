import { describe, expect, it } from "vitest";
import { makeTask } from "../test-support/tasks.ts";
import { followChanges, type StreamStatus } from "./changes.ts";
import type { Change } from "./schemas.ts";

/** A scripted /api/changes: each connection gets a stream we push SSE text into, or a status. */
function fakeServer() {
  const requests: { lastEventId: string | null; auth: string | null }[] = [];
  const streams: ReadableStreamDefaultController<Uint8Array>[] = [];
  const plan: (number | { status: number; retryAfter: string; code: string } | "stream" | "network-error")[] =
    [];
  const waiters: (() => void)[] = [];
  const enc = new TextEncoder();
  const fetch = (async (_url: string, init: RequestInit) => {
    const headers = init.headers as Record<string, string>;
    requests.push({ lastEventId: headers["last-event-id"] ?? null, auth: headers.authorization ?? null });
    for (const w of waiters.splice(0)) w();
    const step = plan.shift() ?? "stream";
    if (step === "network-error") throw new TypeError("Failed to fetch");
    if (typeof step === "number")
      return new Response(JSON.stringify({ error: { code: "x", message: "x" } }), { status: step });
    if (typeof step === "object")
      return new Response(JSON.stringify({ error: { code: step.code, message: "x" } }), {
        status: step.status,
        headers: { "retry-after": step.retryAfter },
      });
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        streams.push(c);
        init.signal?.addEventListener("abort", () => c.error(new DOMException("aborted", "AbortError")));
      },
    });
    return new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });
  }) as typeof globalThis.fetch;
  return {
    fetch,
    requests,
    plan,
    send: (text: string) => streams.at(-1)!.enqueue(enc.encode(text)),
    drop: () => streams.at(-1)!.close(),
    nextRequest: () => new Promise<void>((r) => waiters.push(r)),
  };
}

const change = (seq: number, title: string): string => {
  const c: Change = {
    seq,
    op: "created",
    task_id: `t${seq}`,
    task: makeTask({ title }),
    at: "2026-11-28T10:00:00Z",
  };
  return `id: ${seq}\nevent: change\ndata: ${JSON.stringify(c)}\n\n`;
};

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
};

describe("followChanges", () => {
  const connection = { gatewayUrl: "http://gw.test", token: "tok" };

  it("delivers changes, then resumes after a drop with Last-Event-ID = the last change seen", async () => {
    const server = fakeServer();
    const got: string[] = [];
    const statuses: StreamStatus[] = [];
    const stream = followChanges({
      connection,
      fetch: server.fetch,
      backoffMs: [1],
      onChanges: (cs) => got.push(...cs.map((c) => c.task.title)),
      onStatus: (s) => statuses.push(s),
    });
    await until(() => server.requests.length === 1);
    expect(server.requests[0]).toEqual({ lastEventId: null, auth: "Bearer tok" });
    server.send('id: 7\nevent: ready\ndata: {"seq":7}\n\n');
    server.send(change(8, "a") + change(9, "b"));
    await until(() => got.length === 2);

    server.drop(); // network loss
    await until(() => server.requests.length === 2);
    expect(server.requests[1]!.lastEventId).toBe("9");
    server.send('id: 9\nevent: ready\ndata: {"seq":9}\n\n');
    server.send(change(10, "c"));
    await until(() => got.length === 3);
    expect(got).toEqual(["a", "b", "c"]);
    expect(statuses).toContain("reconnecting");
    expect(statuses.at(-1)).toBe("live");
    await stream.close();
  });

  it("resumes from the ready event's seq when no change came before the drop", async () => {
    const server = fakeServer();
    const stream = followChanges({ connection, fetch: server.fetch, backoffMs: [1], onChanges: () => {} });
    await until(() => server.requests.length === 1);
    server.send('id: 41\nevent: ready\ndata: {"seq":41}\n\n');
    await new Promise((r) => setTimeout(r, 10));
    server.drop();
    await until(() => server.requests.length === 2);
    expect(server.requests[1]!.lastEventId).toBe("41");
    await stream.close();
  });

  it("treats silence past the heartbeat window as a dead connection (sleep, lost network)", async () => {
    const server = fakeServer();
    const stream = followChanges({
      connection,
      fetch: server.fetch,
      backoffMs: [1],
      idleTimeoutMs: 50,
      onChanges: () => {},
    });
    await until(() => server.requests.length === 1);
    server.send("id: 3\nevent: ready\ndata: {}\n\n");
    await until(() => server.requests.length === 2);
    expect(server.requests[1]!.lastEventId).toBe("3");
    await stream.close();
  });

  it("keeps retrying through network errors and server errors, with backoff", async () => {
    const server = fakeServer();
    server.plan.push("network-error", 503, "network-error");
    const delays: number[] = [];
    const stream = followChanges({
      connection,
      fetch: server.fetch,
      backoffMs: [10, 20, 40],
      sleep: async (ms) => void delays.push(ms),
      onChanges: () => {},
    });
    await until(() => server.requests.length === 4);
    expect(delays).toEqual([10, 20, 40]);
    await stream.close();
  });

  it("waits as long as a 429 or 503 asks (Retry-After), and says why", async () => {
    const server = fakeServer();
    server.plan.push(
      { status: 429, retryAfter: "30", code: "rate_limited" },
      { status: 503, retryAfter: "2", code: "auth_unavailable" },
      { status: 503, retryAfter: "86400", code: "auth_unavailable" },
    );
    const delays: number[] = [];
    const details: string[] = [];
    const stream = followChanges({
      connection,
      fetch: server.fetch,
      backoffMs: [10, 5000],
      sleep: async (ms) => void delays.push(ms),
      onChanges: () => {},
      onStatus: (s, detail) => s === "reconnecting" && details.push(detail ?? ""),
    });
    await until(() => server.requests.length === 4);
    // The longer of backoff and Retry-After, never more than five minutes.
    expect(delays).toEqual([30_000, 5000, 300_000]);
    expect(details[0]).toMatch(/server is busy.*Retrying in 30 s/);
    expect(details[1]).toMatch(/server is busy.*Retrying in 2 s/);
    await stream.close();
  });

  it("pauses when newer panels of the account take its place, until reconnect() (the user is back)", async () => {
    const server = fakeServer();
    const statuses: StreamStatus[] = [];
    const stream = followChanges({
      connection,
      fetch: server.fetch,
      backoffMs: [1],
      onChanges: () => {},
      onStatus: (s) => statuses.push(s),
    });
    await until(() => server.requests.length === 1);
    server.send(`id: 4\nevent: ready\ndata: {"seq":4}\n\n`);
    server.send(`event: closed\ndata: {"reason":"too_many_streams"}\n\n`);
    server.drop();
    await until(() => statuses.at(-1) === "paused");
    // Reconnecting on its own would close the account's next-oldest panel: it waits.
    await new Promise((r) => setTimeout(r, 50));
    expect(server.requests).toHaveLength(1);
    stream.reconnect();
    await until(() => server.requests.length === 2);
    expect(server.requests[1]!.lastEventId).toBe("4");
    await stream.close();
  });

  it("reconnects at once after a stream closed for another reason (the next try finds out why)", async () => {
    const server = fakeServer();
    const stream = followChanges({ connection, fetch: server.fetch, backoffMs: [1], onChanges: () => {} });
    await until(() => server.requests.length === 1);
    server.send(`event: closed\ndata: {"reason":"signed_out"}\n\n`);
    server.drop();
    await until(() => server.requests.length === 2);
    await stream.close();
  });

  it("stops and reports an expired session on 401", async () => {
    const server = fakeServer();
    server.plan.push(401);
    const statuses: StreamStatus[] = [];
    const stream = followChanges({
      connection,
      fetch: server.fetch,
      backoffMs: [1],
      onChanges: () => {},
      onStatus: (s) => statuses.push(s),
    });
    await until(() => statuses.includes("expired"));
    await new Promise((r) => setTimeout(r, 20));
    expect(server.requests).toHaveLength(1);
    await stream.close();
  });

  it("reconnect() skips the wait (woken from sleep, back online)", async () => {
    const server = fakeServer();
    server.plan.push("network-error");
    const stream = followChanges({
      connection,
      fetch: server.fetch,
      backoffMs: [60_000],
      onChanges: () => {},
    });
    await until(() => server.requests.length === 1);
    await new Promise((r) => setTimeout(r, 10));
    stream.reconnect();
    await until(() => server.requests.length === 2);
    await stream.close();
  });
});
