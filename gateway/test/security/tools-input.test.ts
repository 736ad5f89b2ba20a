import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUp } from "../support/auth.ts";
import { gatewayForFile } from "../support/gateway-for-file.ts";
import { call, textOf } from "../support/mcp.ts";

// Issue 12 items 9 and 10: input Postgres would refuse, or that a parser would misread, is refused at the tool
// boundary with what to fix: an isError over MCP, a 400 over REST (never 502), and the same refusal from
// /api/dates/preview.

const { gw } = gatewayForFile();
let token: string;
let mcp: Client;

beforeAll(async () => {
  token = await signUp(gw.baseUrl, "probe@example.com", { timezone: "Europe/Berlin" });
  mcp = await gw.mcp.connect("probe-mcp-user", "Europe/Berlin");
});
afterAll(async () => {
  await mcp?.close();
});

const NUL = "a\u0000b";
const LONE = "a\uD800b";
const json = (body: unknown) => JSON.stringify(body);
const cursorOf = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString("base64url");

describe("text Postgres cannot store", () => {
  const bodies: [string, Record<string, unknown>][] = [
    ["title", { title: NUL }],
    ["title", { title: LONE }],
    ["notes", { title: "t", notes: NUL }],
    ["notes", { title: "t", notes: `x\uDC00` }],
    ["due", { title: "t", due: `tomorrow${"\u0000"}` }],
    ["label", { title: "t", labels: ["ok", NUL] }],
    ["source.title", { title: "t", source: { title: LONE } }],
    ["source.excerpt", { title: "t", source: { excerpt: NUL } }],
  ];

  it("is refused by add_task with a message naming the field", async () => {
    for (const [field, args] of bodies) {
      const result = await call(mcp, "add_task", args);
      expect(result.isError, field).toBe(true);
      expect(textOf(result), field).toMatch(
        new RegExp(`${field.replace(".", "\\.")}.*NUL character or broken Unicode`),
      );
    }
    const query = await call(mcp, "list_tasks", { query: NUL });
    expect(query.isError).toBe(true);
    expect(textOf(query)).toMatch(/query/);
    expect((await call(mcp, "list_tasks", { status: "all" })).structuredContent.tasks).toEqual([]);
  });

  it("answers 400 over REST, not 502, on create, update and list", async () => {
    for (const [field, body] of bodies) {
      const res = await gw.api("/api/tasks", token, { method: "POST", body: json(body) });
      expect(res.status, field).toBe(400);
      expect((await res.json()).error.message, field).toMatch(/NUL character or broken Unicode/);
    }
    const created = await gw.api("/api/tasks", token, { method: "POST", body: json({ title: "fine" }) });
    const { task } = await created.json();
    const patch = await gw.api(`/api/tasks/${task.id}`, token, {
      method: "PATCH",
      body: json({ title: LONE }),
    });
    expect(patch.status).toBe(400);
    const list = await gw.api(`/api/tasks?query=${encodeURIComponent(NUL)}`, token);
    expect(list.status).toBe(400);
    expect((await list.json()).error.message).toMatch(/query/);
    const preview = await gw.api(`/api/dates/preview?due=${encodeURIComponent(NUL)}`, token);
    expect(preview.status).toBe(400);
  });
});

describe("dates that cannot be stored or were misread", () => {
  const refused: [string, RegExp][] = [
    ["0000-01-01", /years 1900 to 9999/],
    ["+275760-09-14T00:00:00Z", /years 1900 to 9999/],
    ["10000-01-01", /years 1900 to 9999/],
    ["every 0 days", /never repeats/],
    ["every 1001 days", /at most every 1000 days/],
    ["2026-02-30", /not a valid date/],
  ];

  it("are refused by add_task and update_task, and by REST with 400", async () => {
    const { task } = (await call(mcp, "add_task", { title: "to move" })).structuredContent;
    for (const [due, message] of refused) {
      const added = await call(mcp, "add_task", { title: "t", due });
      expect(added.isError, due).toBe(true);
      expect(textOf(added), due).toMatch(message);
      const updated = await call(mcp, "update_task", { task_id: task.id, due });
      expect(updated.isError, due).toBe(true);
      expect(textOf(updated), due).toMatch(message);
      const res = await gw.api("/api/tasks", token, { method: "POST", body: json({ title: "t", due }) });
      expect(res.status, due).toBe(400);
      expect((await res.json()).error.message, due).toMatch(message);
    }
    const titles = (await call(mcp, "list_tasks", { status: "all" })).structuredContent.tasks.map(
      (t: { title: string; due: unknown }) => [t.title, t.due],
    );
    expect(titles).toEqual([["to move", null]]);
  });

  it("are refused by /api/dates/preview exactly as create refuses them, past dates included", async () => {
    for (const [due, message] of [...refused, ["yesterday", /in the past/] as [string, RegExp]]) {
      const res = await gw.api(`/api/dates/preview?due=${encodeURIComponent(due)}`, token);
      expect(res.status, due).toBe(422);
      expect((await res.json()).error.message, due).toMatch(message);
      const created = await gw.api("/api/tasks", token, { method: "POST", body: json({ title: "t", due }) });
      expect(created.status, due).toBe(400);
    }
  });

  it("supports a large repeat interval exactly", async () => {
    const result = await call(mcp, "add_task", { title: "replace the filter", due: "every 1000 days" });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent.task.due).toMatchObject({ repeat: "every 1000 days" });
    expect(result.structuredContent.task.due.rrule).toContain("FREQ=DAILY;INTERVAL=1000");
    const done = await call(mcp, "complete_task", { task_id: result.structuredContent.task.id });
    const days =
      (Date.parse(done.structuredContent.task.due.at) - Date.parse(result.structuredContent.task.due.at)) /
      86_400_000;
    expect(Math.round(days)).toBe(1000);
  });

  it("refuses a cursor holding an impossible date with a message, over MCP and REST", async () => {
    const forged = cursorOf(["due", "2026-02-30T00:00:00.000Z", 1, "6f1c1f4e-1d2b-4c3a-9f00-000000000000"]);
    const result = await call(mcp, "list_tasks", { cursor: forged });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/cursor is not valid/);
    const res = await gw.api(`/api/tasks?cursor=${forged}`, token);
    expect(res.status).toBe(400);
    expect((await res.json()).error.message).toMatch(/cursor/);
    const yearZero = cursorOf([
      "completed",
      "0000-01-01T00:00:00.000Z",
      "6f1c1f4e-1d2b-4c3a-9f00-000000000000",
    ]);
    expect((await gw.api(`/api/tasks?status=completed&cursor=${yearZero}`, token)).status).toBe(400);
  });
});

describe("text Postgres cannot store, elsewhere on the gateway", () => {
  it("is a 400 on DELETE /api/oauth/connections/:clientId, not a 500", async () => {
    for (const id of ["a%00b", "a%ED%A0%80b"]) {
      const res = await gw.api(`/api/oauth/connections/${id}`, token, { method: "DELETE" });
      expect(res.status, id).toBe(400);
    }
    expect((await gw.api("/api/oauth/connections/unknown-app", token, { method: "DELETE" })).status).toBe(
      404,
    );
  });
});
