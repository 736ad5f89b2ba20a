import { beforeAll, describe, expect, it } from "vitest";
import { signUp } from "../support/auth.ts";
import { startGatewayHarness } from "../support/gateway.ts";
import { gatewayForFile } from "../support/gateway-for-file.ts";

const { database, gw } = gatewayForFile();
let token: string;

beforeAll(async () => {
  token = await signUp(gw.baseUrl, "rest@example.com", { timezone: "America/New_York" });
});

const json = (body: unknown) => JSON.stringify(body);

describe("REST /api/tasks", () => {
  it("round-trips every route", async () => {
    const created = await gw.api("/api/tasks", token, {
      method: "POST",
      body: json({ title: "Write report", due: "2099-12-01T09:00", priority: "high", labels: ["work"] }),
    });
    expect(created.status).toBe(201);
    const { task } = await created.json();
    // The user's zone from sign-up reached the MCP server through the signed token.
    expect(task.due).toMatchObject({ at: "2099-12-01T14:00:00.000Z", tz: "America/New_York" });

    const listed = await (await gw.api("/api/tasks?status=pending&limit=10", token)).json();
    expect(listed.tasks.map((t: { id: string }) => t.id)).toEqual([task.id]);
    expect(listed.next_cursor).toBeNull();

    const patched = await gw.api(`/api/tasks/${task.id}`, token, {
      method: "PATCH",
      body: json({ title: "Write the report", notes: "2 pages", due: null }),
    });
    expect(patched.status).toBe(200);
    expect((await patched.json()).task).toMatchObject({
      title: "Write the report",
      notes: "2 pages",
      due: null,
    });

    const completed = await (
      await gw.api(`/api/tasks/${task.id}/complete`, token, { method: "POST" })
    ).json();
    expect(completed).toMatchObject({ changed: true, task: { status: "completed" } });
    const reopened = await (await gw.api(`/api/tasks/${task.id}/reopen`, token, { method: "POST" })).json();
    expect(reopened.task.status).toBe("pending");
    const deleted = await (await gw.api(`/api/tasks/${task.id}`, token, { method: "DELETE" })).json();
    expect(deleted.task.deleted_at).not.toBeNull();
    expect((await (await gw.api("/api/tasks", token)).json()).tasks).toEqual([]);
    const trash = await (await gw.api("/api/tasks?status=deleted", token)).json();
    expect(trash.tasks.map((t: { id: string }) => t.id)).toEqual([task.id]);
    const restored = await (await gw.api(`/api/tasks/${task.id}/restore`, token, { method: "POST" })).json();
    expect(restored.task.deleted_at).toBeNull();
  });

  it("makes one task from 20 concurrent identical POSTs with one Idempotency-Key", async () => {
    const user = await signUp(gw.baseUrl, "retry@example.com");
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        gw.api("/api/tasks", user, {
          method: "POST",
          headers: { "idempotency-key": "capture-7f3a" },
          body: json({ title: "Saved from a page", source: { url: "https://example.com/a" } }),
        }),
      ),
    );
    const bodies = await Promise.all(responses.map((r) => r.json()));
    expect(new Set(bodies.map((b) => b.task.id)).size).toBe(1);
    expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
    expect(
      responses.filter((r) => r.status === 200 && r.headers.get("idempotent-replayed") === "true"),
    ).toHaveLength(19);
    expect((await (await gw.api("/api/tasks", user)).json()).tasks).toHaveLength(1);
  });

  it("previews a due phrase in the user's zone without creating anything", async () => {
    const user = await signUp(gw.baseUrl, "preview@example.com", { timezone: "Asia/Tokyo" });
    const res = await gw.api(`/api/dates/preview?due=${encodeURIComponent("every weekday at 9")}`, user);
    expect(res.status).toBe(200);
    const { due } = await res.json();
    expect(due).toMatchObject({ tz: "Asia/Tokyo", date_only: false });
    expect(due.rrule).toContain("BYDAY=MO,TU,WE,TH,FR");
    expect(new Date(due.at).getUTCHours()).toBe(0); // 09:00 in Tokyo
    expect(due.text).toMatch(/weekday/);
    const bad = await gw.api("/api/dates/preview?due=someday+maybe", user);
    expect(bad.status).toBe(422);
    expect((await bad.json()).error.message).toMatch(/tomorrow 5pm/);
    expect((await (await gw.api("/api/tasks?status=all", user)).json()).tasks).toEqual([]);
  });

  it("answers bad input with a 4xx and a message, never a crash", async () => {
    const cases: [string, RequestInit, number, RegExp][] = [
      ["/api/tasks", { method: "POST", body: "{oops" }, 400, /not valid JSON/],
      ["/api/tasks", { method: "POST", body: json({ title: 7 }) }, 400, /title/],
      [
        "/api/tasks",
        { method: "POST", body: json({ title: "x", owner: "someone" }) },
        400,
        /owner|unrecognized/i,
      ],
      ["/api/tasks", { method: "POST", body: json({ title: "x".repeat(501) }) }, 400, /500 characters/],
      [
        "/api/tasks",
        { method: "POST", body: json({ title: "x", notes: "y".repeat(70_000) }) },
        413,
        /larger than/,
      ],
      [
        "/api/tasks",
        { method: "POST", body: json({ title: "x", due: "at the heat death" }) },
        400,
        /due date/,
      ],
      ["/api/tasks?status=archived", {}, 400, /status/],
      ["/api/tasks?limit=0", {}, 400, /limit/],
      ["/api/tasks/not-a-task", { method: "PATCH", body: json({ title: "x" }) }, 404, /No task/],
      ["/api/tasks/0b5a3c1e-7d2f-4e8a-9b6c-112233445566/complete", { method: "POST" }, 404, /No task/],
      [
        "/api/tasks",
        { method: "POST", headers: { "idempotency-key": "has spaces" }, body: json({ title: "x" }) },
        400,
        /Idempotency-Key/,
      ],
      ["/api/nothing-here", {}, 404, /No such endpoint/],
    ];
    for (const [path, init, status, message] of cases) {
      const res = await gw.api(path, token, init);
      expect(res.status, `${init.method ?? "GET"} ${path}`).toBe(status);
      const body = await res.json();
      expect(body.error.message, path).toMatch(message);
      expect(typeof body.error.code).toBe("string");
    }
    expect((await gw.api("/healthz", undefined)).status).toBe(200);
  });
});

describe("per-user write limits", () => {
  it("answers 429 past the limit for one user, while another user still writes", async () => {
    const limited = await startGatewayHarness(database, { writeRateLimitPerMinute: 3, mcp: gw.mcp });
    try {
      const a = await signUp(limited.baseUrl, "busy@example.com");
      const b = await signUp(limited.baseUrl, "calm@example.com");
      const post = (t: string) =>
        limited.api("/api/tasks", t, { method: "POST", body: json({ title: "t" }) });
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await post(a)).status);
      expect(statuses).toEqual([201, 201, 201, 429]);
      const limitedRes = await post(a);
      expect((await limitedRes.json()).error.code).toBe("rate_limited");
      expect((await post(b)).status).toBe(201);
      expect((await limited.api("/api/tasks", a)).status).toBe(200); // reads are not limited
    } finally {
      await limited.close();
    }
  });
});
