// Issue 12 items 5 and 6 at the gateway's /mcp: one write budget with REST (per tool call, batches
// included), and Host/Origin allowlists on every gateway route.
import { request } from "node:http";
import { describe, expect, it } from "vitest";
import { createApiKey } from "../../src/auth/accounts.ts";
import { signUp } from "../support/auth.ts";
import { EXTENSION_ORIGIN, postMcp } from "../support/gateway.ts";
import { gatewayForFile } from "../support/gateway-for-file.ts";

const { database, gw } = gatewayForFile({ writeRateLimitPerMinute: 6 });

const addTask = (id: number) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name: "add_task", arguments: { title: `via mcp ${id}` } },
});

describe("one write budget for REST and /mcp", () => {
  it("counts each tool call of a batch, shares the count with REST, and leaves reads alone", async () => {
    const token = await signUp(gw.baseUrl, "budget@example.com");
    const { key } = await createApiKey(gw.auth, database.db, { email: "budget@example.com" });
    for (let i = 0; i < 2; i++) {
      const res = await gw.api("/api/tasks", token, {
        method: "POST",
        body: JSON.stringify({ title: `rest ${i}` }),
      });
      expect(res.status).toBe(201);
    }
    // Reads spend nothing.
    const list = {
      jsonrpc: "2.0",
      id: 99,
      method: "tools/call",
      params: { name: "list_tasks", arguments: {} },
    };
    for (let i = 0; i < 5; i++) expect((await postMcp(gw, key, list)).status).toBe(200);
    // 2 REST + 3 in one batch = 5 of 6.
    const batch = await postMcp(gw, key, [addTask(1), addTask(2), addTask(3)]);
    expect(batch.status).toBe(200);
    // A batch of 2 more would pass 6: refused whole, nothing created.
    const over = await postMcp(gw, key, [addTask(4), addTask(5)]);
    expect(over.status).toBe(429);
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await over.json()).error.code).toBe("rate_limited");
    // One more single call fits; then REST is refused too.
    expect((await postMcp(gw, key, addTask(6))).status).toBe(200);
    const rest = await gw.api("/api/tasks", token, {
      method: "POST",
      body: JSON.stringify({ title: "late" }),
    });
    expect(rest.status).toBe(429);
    const titles = ((await (await gw.api("/api/tasks?limit=50", token)).json()).tasks as { title: string }[])
      .map((t) => t.title)
      .sort();
    expect(titles).toEqual(["rest 0", "rest 1", "via mcp 1", "via mcp 2", "via mcp 3", "via mcp 6"]);
  });

  it("counts a body the MCP server would read however it is encoded, and never forwards one it can't count", async () => {
    const token = await signUp(gw.baseUrl, "encoded@example.com");
    const { key } = await createApiKey(gw.auth, database.db, { email: "encoded@example.com" });
    const raw = (body: Buffer, type: string) =>
      fetch(`${gw.baseUrl}/mcp`, {
        method: "POST",
        headers: {
          "content-type": type,
          accept: "application/json, text/event-stream",
          authorization: `Bearer ${key}`,
        },
        body: new Uint8Array(body),
      });
    const batch = (from: number) => JSON.stringify([1, 2, 3, 4].map((i) => addTask(from + i)));
    // A byte-order mark, which the MCP server drops: 4 of 6, then 4 more is over.
    const bom = (text: string) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
    expect((await raw(bom(batch(0)), "application/json")).status).toBe(200);
    expect((await raw(bom(batch(10)), "application/json")).status).toBe(429);
    // UTF-16, which body-parser would decode: refused before it reaches the MCP server.
    const utf16 = await raw(Buffer.from(batch(20), "utf16le"), "application/json; charset=utf-16le");
    expect(utf16.status).toBe(400);
    expect((await utf16.json()).error.code).toBe(-32700);
    const titles = ((await (await gw.api("/api/tasks?limit=50", token)).json()).tasks as { title: string }[])
      .map((t) => t.title)
      .sort();
    expect(titles).toEqual(["via mcp 1", "via mcp 2", "via mcp 3", "via mcp 4"]);
  });
});

/** Raw request, so the Host header can be anything. */
function rawStatus(path: string, headers: Record<string, string>, body?: string) {
  const url = new URL(gw.baseUrl);
  return new Promise<number>((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: body ? "POST" : "GET", headers });
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("Host and Origin allowlists", () => {
  it("answers only its own Host names, 127.0.0.1 and localhost alike, and any Host on probes", async () => {
    const port = new URL(gw.baseUrl).port;
    expect(await rawStatus("/api/tasks", { host: "evil.test" })).toBe(403);
    expect(await rawStatus("/api/tasks", { host: `evil.test:${port}` })).toBe(403);
    expect(await rawStatus("/api/tasks", { host: `127.0.0.1:${Number(port) + 1}` })).toBe(403);
    expect(await rawStatus("/api/tasks", { host: `127.0.0.1:${port}` })).toBe(401);
    expect(await rawStatus("/api/tasks", { host: `localhost:${port}` })).toBe(401);
    expect(await rawStatus("/healthz", { host: "10.1.2.3:8787" })).toBe(200);
  });

  it("refuses foreign browser Origins on /mcp and /api, and takes the gateway's and the extension's", async () => {
    const token = await signUp(gw.baseUrl, "origins@example.com");
    const { key } = await createApiKey(gw.auth, database.db, { email: "origins@example.com" });
    const ping = { jsonrpc: "2.0", id: 1, method: "ping" };
    expect((await postMcp(gw, key, ping, { origin: "http://evil.example.com" })).status).toBe(403);
    expect((await postMcp(gw, key, ping, { origin: "null" })).status).toBe(403);
    expect((await postMcp(gw, key, ping, { origin: gw.baseUrl })).status).toBe(200);
    expect(
      (await postMcp(gw, key, ping, { origin: gw.baseUrl.replace("127.0.0.1", "localhost") })).status,
    ).toBe(200);
    expect((await postMcp(gw, key, ping)).status).toBe(200);
    const evil = await gw.api("/api/tasks", token, { headers: { origin: "https://evil.example" } });
    expect(evil.status).toBe(403);
    expect((await evil.json()).error.code).toBe("invalid_origin");
    expect((await gw.api("/api/tasks", token, { headers: { origin: EXTENSION_ORIGIN } })).status).toBe(200);
  });
});
