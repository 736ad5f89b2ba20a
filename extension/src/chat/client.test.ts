import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../api/errors.ts";
import { clockLocale } from "../panel/format.ts";
import { chatkitClient } from "./client.ts";
import type { StreamEvent } from "./protocol.ts";
import { withPage } from "./protocol.ts";

const conn = { gatewayUrl: "http://127.0.0.1:8787", token: "tok" };

/** An SSE body delivered in awkward chunks (split mid-line), as a network may. */
function sse(events: unknown[]): Response {
  const text = events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join("");
  const chunks = [text.slice(0, 7), text.slice(7, 40), text.slice(40)];
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(new TextEncoder().encode(c));
      controller.close();
    },
  });
  return new Response(body, { headers: { "content-type": "text/event-stream" } });
}

afterEach(() => vi.unstubAllGlobals());

describe("the ChatKit client", () => {
  it("posts with the bearer token and hands over each streamed event", async () => {
    const fetch = vi.fn(async () =>
      sse([
        { type: "progress_update", text: "Working" },
        { type: "client_effect", name: "tasks.changed", data: { ids: ["t"] } },
      ]),
    );
    vi.stubGlobal("fetch", fetch);
    const got: StreamEvent[] = [];
    const request = withPage(
      { type: "threads.create", params: { input: { content: [], attachments: [], inference_options: {} } } },
      { url: "https://a.example/", title: "A" },
    );
    await chatkitClient(conn).stream(request, (e) => got.push(e), new AbortController().signal);
    expect(got).toEqual([
      { type: "progress_update", text: "Working" },
      { type: "client_effect", name: "tasks.changed", data: { ids: ["t"] } },
    ]);
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe("http://127.0.0.1:8787/chatkit");
    expect((init.headers as Record<string, string>).authorization).toBe("Bearer tok");
    expect(JSON.parse(init.body as string).metadata).toEqual({
      page: { url: "https://a.example/", title: "A" },
      locale: clockLocale(),
    });
  });

  it("turns an error answer into the server's message", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () =>
        Response.json({ error: { code: "rate_limited", message: "Too many turns." } }, { status: 429 }),
      ),
    );
    const error = await chatkitClient(conn)
      .stream({ type: "x" }, () => {}, new AbortController().signal)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).message).toBe("Too many turns.");
  });

  it("sends the checkbox as a sync action and reads back the updated item", async () => {
    const item = {
      id: "w1",
      thread_id: "t1",
      created_at: "2026-11-28T23:00:00Z",
      type: "widget",
      widget: { type: "ListView" },
    };
    const fetch = vi.fn(async () => Response.json({ updated_item: item }));
    vi.stubGlobal("fetch", fetch);
    const updated = await chatkitClient(conn).syncAction("t1", "w1", {
      type: "task.toggle",
      payload: { task_id: "a" },
    });
    expect(updated).toEqual(item);
    const body = JSON.parse((fetch.mock.calls[0] as unknown as [string, RequestInit])[1].body as string);
    expect(body).toEqual({
      type: "threads.sync_custom_action",
      params: { thread_id: "t1", item_id: "w1", action: { type: "task.toggle", payload: { task_id: "a" } } },
      metadata: { locale: clockLocale() },
    });
  });

  it("pages the history with the threads.list cursor", async () => {
    const thread = (id: string) => ({ id, title: `Chat ${id}`, created_at: "2026-11-28T23:00:00Z" });
    const fetch = vi
      .fn()
      .mockResolvedValueOnce(
        Response.json({ data: [thread("t3"), thread("t2")], has_more: true, after: "t2" }),
      )
      .mockResolvedValueOnce(Response.json({ data: [thread("t1")], has_more: false }));
    vi.stubGlobal("fetch", fetch);
    const client = chatkitClient(conn);
    const first = await client.listThreads();
    expect(first).toEqual({
      threads: [
        { id: "t3", title: "Chat t3", created_at: "2026-11-28T23:00:00Z" },
        { id: "t2", title: "Chat t2", created_at: "2026-11-28T23:00:00Z" },
      ],
      after: "t2",
    });
    expect(await client.listThreads(first.after!)).toEqual({
      threads: [{ id: "t1", title: "Chat t1", created_at: "2026-11-28T23:00:00Z" }],
      after: null,
    });
    const bodies = fetch.mock.calls.map((c) => JSON.parse((c as [string, RequestInit])[1].body as string));
    expect(bodies).toEqual([
      { type: "threads.list", params: { limit: 30, order: "desc" }, metadata: { locale: clockLocale() } },
      {
        type: "threads.list",
        params: { limit: 30, order: "desc", after: "t2" },
        metadata: { locale: clockLocale() },
      },
    ]);
  });

  it("names the panel's locale with its hour cycle, so the server formats times as the panel does", () => {
    expect(clockLocale()).toMatch(/-u-hc-h(11|12|23|24)$/);
    const at = new Date("2026-11-28T16:05:00Z");
    const options = { hour: "numeric", minute: "2-digit", timeZone: "Europe/Berlin" } as const;
    expect(new Intl.DateTimeFormat(clockLocale(), options).format(at)).toBe(
      new Intl.DateTimeFormat(undefined, options).format(at),
    );
  });
});
