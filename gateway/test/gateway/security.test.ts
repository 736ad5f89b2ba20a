import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../src/auth/accounts.ts";
import { session } from "../../src/db/auth-schema.ts";
import { packageBin, runNode } from "../peers/support.ts";
import { signUp } from "../support/auth.ts";
import { EXTENSION_ORIGIN, startGatewayHarness } from "../support/gateway.ts";
import { gatewayForFile } from "../support/gateway-for-file.ts";
import { call, textOf } from "../support/mcp.ts";

const { database, gw } = gatewayForFile();
let alice: string;
let bob: string;
let aliceTask: { id: string };

beforeAll(async () => {
  alice = await signUp(gw.baseUrl, "alice@example.com");
  bob = await signUp(gw.baseUrl, "bob@example.com");
  const res = await gw.api("/api/tasks", alice, {
    method: "POST",
    body: JSON.stringify({ title: "alice only" }),
  });
  aliceTask = (await res.json()).task;
});

const mcpClient = async (key: string) => {
  const client = new Client({ name: "external", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL("/mcp", gw.baseUrl), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
    }),
  );
  return client;
};

describe("cross-user access", () => {
  it("answers REST actions on another user's task with 404, and changes nothing", async () => {
    const attempts: [string, string, unknown?][] = [
      ["PATCH", `/api/tasks/${aliceTask.id}`, { title: "bob was here" }],
      ["POST", `/api/tasks/${aliceTask.id}/complete`],
      ["POST", `/api/tasks/${aliceTask.id}/reopen`],
      ["DELETE", `/api/tasks/${aliceTask.id}`],
      ["POST", `/api/tasks/${aliceTask.id}/restore`],
    ];
    for (const [method, path, body] of attempts) {
      const res = await gw.api(path, bob, { method, ...(body ? { body: JSON.stringify(body) } : {}) });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    expect((await (await gw.api("/api/tasks?status=all", bob)).json()).tasks).toEqual([]);
    const mine = await (await gw.api("/api/tasks", alice)).json();
    expect(mine.tasks).toMatchObject([
      { id: aliceTask.id, title: "alice only", status: "pending", deleted_at: null },
    ]);
  });

  it("scopes /mcp to the API key's owner", async () => {
    const bobKey = await createApiKey(gw.auth, database.db, { email: "bob@example.com", name: "cursor" });
    const client = await mcpClient(bobKey.key);
    try {
      const listed = await call(client, "list_tasks", { status: "all" });
      expect(listed.structuredContent.tasks).toEqual([]);
      const attempt = await call(client, "complete_task", { task_id: aliceTask.id });
      expect(attempt.isError).toBe(true);
      expect(textOf(attempt)).toMatch(/No task/);
      const added = await call(client, "add_task", { title: "from Cursor" });
      expect(added.isError).toBeFalsy();
    } finally {
      await client.close();
    }
    const bobsTasks = await (await gw.api("/api/tasks", bob)).json();
    expect(bobsTasks.tasks.map((t: { title: string }) => t.title)).toEqual(["from Cursor"]);
  });
});

describe("credentials", () => {
  it("refuses missing and garbage tokens with 401 JSON", async () => {
    for (const token of [undefined, "garbage", "a.b"]) {
      const res = await gw.api("/api/tasks", token);
      expect(res.status).toBe(401);
      expect((await res.json()).error.code).toBe("unauthorized");
    }
  });

  it("refuses an expired session", async () => {
    const token = await signUp(gw.baseUrl, "expiring@example.com");
    expect((await gw.api("/api/tasks", token)).status).toBe(200);
    await database.db
      .update(session)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(session.token, token.split(".")[0]!));
    // Cut short in the database, the session is dropped from the gateway's cache by auth_changes: within a second.
    const started = performance.now();
    let status = 200;
    while (status === 200 && performance.now() - started < 1000) {
      status = (await gw.api("/api/tasks", token)).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 20));
    }
    expect(status).toBe(401);
  });

  it("refuses /mcp without a key, with a session token, and with a revoked key", async () => {
    const rpc = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} });
    const post = (auth?: string) =>
      fetch(new URL("/mcp", gw.baseUrl), {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          ...(auth ? { authorization: `Bearer ${auth}` } : {}),
        },
        body: rpc,
      });
    const none = await post();
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/resource_metadata=/);
    expect((await post(alice)).status).toBe(401); // a browser session is not an API key

    const key = await createApiKey(gw.auth, database.db, { email: "alice@example.com", name: "to revoke" });
    expect((await post(key.key)).status).toBe(200);
    const revoke = await gw.api("/api/auth/api-key/delete", alice, {
      method: "POST",
      headers: { origin: gw.baseUrl },
      body: JSON.stringify({ keyId: key.id }),
    });
    expect(revoke.status).toBe(200);
    expect((await post(key.key)).status).toBe(401);
  });
});

describe("MCP Inspector against the gateway", () => {
  it("lists and calls tools with a personal API key", async () => {
    const key = await createApiKey(gw.auth, database.db, { email: "alice@example.com", name: "inspector" });
    const home = await mkdtemp(path.join(tmpdir(), "margin-inspector-"));
    const run = async (args: string[]) => {
      const result = await runNode(
        packageBin("@modelcontextprotocol/inspector", "inspector"),
        [
          "--cli",
          `${gw.baseUrl}/mcp`,
          "--transport",
          "http",
          ...args,
          "--header",
          `Authorization: Bearer ${key.key}`,
        ],
        { timeoutMs: 60_000, env: { HOME: home, MCP_CATALOG_PATH: path.join(home, "mcp.json") } },
      );
      expect(result.code, result.stderr).toBe(0);
      return result;
    };
    const listed = JSON.parse((await run(["--method", "tools/list"])).stdout);
    expect(listed.tools.map((t: { name: string }) => t.name)).toContain("add_task");
    const called = JSON.parse(
      (
        await run([
          "--method",
          "tools/call",
          "--tool-name",
          "add_task",
          "--tool-arg",
          "title=from the inspector",
        ])
      ).stdout,
    );
    expect(called.structuredContent.task.title).toBe("from the inspector");
    await rm(home, { recursive: true, force: true });
  });
});

describe("CORS", () => {
  it("lets the extension and the gateway's own pages call, and nobody else", async () => {
    const preflight = (origin: string) =>
      fetch(`${gw.baseUrl}/api/tasks`, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization",
        },
      });
    expect((await preflight(EXTENSION_ORIGIN)).headers.get("access-control-allow-origin")).toBe(
      EXTENSION_ORIGIN,
    );
    expect((await preflight(gw.baseUrl)).headers.get("access-control-allow-origin")).toBe(gw.baseUrl);
    expect((await preflight("https://evil.example")).headers.get("access-control-allow-origin")).toBeNull();
    expect(
      (await preflight("chrome-extension://someotherextensionidxxxxxxxxxxxx")).headers.get(
        "access-control-allow-origin",
      ),
    ).toBeNull();
  });
});

describe("when the MCP server is down", () => {
  it("answers 503 with a message and keeps serving", async () => {
    const gw2 = await startGatewayHarness(database);
    const token = await signUp(gw2.baseUrl, "outage@example.com");
    expect((await gw2.api("/api/tasks", token)).status).toBe(200);
    await gw2.mcp.close();
    const res = await gw2.api("/api/tasks", token, {
      method: "POST",
      body: JSON.stringify({ title: "during outage" }),
    });
    expect(res.status).toBe(503);
    expect((await res.json()).error).toMatchObject({
      code: "task_service_unavailable",
      message: expect.stringMatching(/unavailable/),
    });
    expect((await gw2.api("/api/tasks", token)).status).toBe(503);
    expect((await gw2.api("/healthz", undefined)).status).toBe(200);
    const ready = await gw2.api("/readyz", undefined);
    expect(ready.status).toBe(503);
    expect((await ready.json()).checks).toEqual({ database: "ok", mcp_server: "unreachable" });
    await gw2.close();
  });
});
