import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMcpHttpApp } from "../../src/mcp-server/http.ts";
import { createTaskRepository } from "../../src/tasks/repository.ts";
import {
  call,
  connectInProcess,
  type McpHttpHarness,
  silentLogger,
  startMcpHttpHarness,
  TEST_SECRET,
} from "../support/mcp.ts";
import { databaseForFile } from "../support/suite.ts";

// Issue 12 items 13 (malformed tools/call params, unknown routes) and 6 (port-aware Host checks), MCP server side.

const database = databaseForFile();
let direct: McpHttpHarness;
let sdk: McpHttpHarness;

beforeAll(async () => {
  direct = await startMcpHttpHarness(database);
  sdk = await startMcpHttpHarness(database, { answerToolCallsDirectly: false });
});
afterAll(async () => {
  await direct?.close();
  await sdk?.close();
});

async function post(app: McpHttpHarness, body: unknown) {
  const res = await fetch(app.url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      authorization: `Bearer ${await app.token("boundary-user")}`,
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const callWith = (params: unknown, id = 1) => ({ jsonrpc: "2.0", id, method: "tools/call", params });

describe("malformed tools/call params", () => {
  const malformed: [unknown, RegExp][] = [
    [{ arguments: {} }, /name: expected string/],
    [{ name: "add_task", arguments: "title=x" }, /arguments: expected record/],
    [{ name: 42 }, /name: expected string/],
    [undefined, /params/],
  ];

  it("answer -32602 with a short message, on the direct path and the SDK path", async () => {
    for (const app of [direct, sdk]) {
      for (const [params, message] of malformed) {
        const { status, body } = await post(app, callWith(params));
        expect(status).toBe(200);
        expect(body.id).toBe(1);
        expect(body.error.code, JSON.stringify(params)).toBe(-32602);
        expect(body.error.message).toMatch(message);
        expect(body.error.message).toMatch(/^Invalid tools\/call params/);
        expect(body.error.message.length).toBeLessThan(200);
        expect(body.error.message).not.toContain('"code"'); // no zod issue dump
      }
    }
  });

  it("answer each malformed call of a batch on its own, next to the valid ones", async () => {
    const { body } = await post(direct, [
      callWith({ name: "list_tasks", arguments: {} }, 1),
      callWith({ arguments: {} }, 2),
    ]);
    const byId = Object.fromEntries(body.map((r: { id: number }) => [r.id, r]));
    expect(byId[1].result.structuredContent.tasks).toEqual([]);
    expect(byId[2].error.code).toBe(-32602);
  });

  it("answer -32602 in-process too (the same guard serves stdio)", async () => {
    const client = await connectInProcess(database, { id: "in-process", tz: "UTC" });
    await expect(
      client.request(
        callWith({ arguments: {} }) as never,
        (await import("@modelcontextprotocol/sdk/types.js")).CallToolResultSchema,
      ),
    ).rejects.toMatchObject({ code: -32602 });
    expect((await call(client, "list_tasks")).isError).toBeFalsy();
  });
});

describe("routes the MCP server does not serve", () => {
  it("answer JSON, not Express's HTML page", async () => {
    for (const [method, path, status] of [
      ["GET", "/nope", 404],
      ["POST", "/mcp/extra", 404],
      ["PUT", "/mcp", 405],
    ] as const) {
      const res = await fetch(new URL(path, direct.url), { method });
      expect(res.status, `${method} ${path}`).toBe(status);
      expect(res.headers.get("content-type")).toMatch(/application\/json/);
      expect((await res.json()).error.message).toBeTruthy();
    }
  });
});

/** Status of a POST to `port` with this Host header: 403 means the Host was refused (before auth's 401). */
function statusWithHost(port: string, host: string, origin?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/mcp",
        method: "POST",
        headers: { host, "content-type": "application/json", ...(origin ? { origin } : {}) },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("error", reject);
    req.end("{}");
  });
}

describe("Host checks", () => {
  it("are port-aware, and take localhost, 127.0.0.1 and [::1] as one host", async () => {
    const port = direct.url.port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`]) {
      expect(await statusWithHost(port, host), host).toBe(401);
    }
    for (const host of [
      `127.0.0.1:1`,
      `localhost:${Number(port) + 1}`,
      `evil.test:${port}`,
      "evil.test",
      "a@b",
    ]) {
      expect(await statusWithHost(port, host), host).toBe(403);
    }
  });

  it("accept 127.0.0.1 where only localhost is configured, and the reverse, as Host and as Origin", async () => {
    const { createServer } = await import("node:http");
    for (const [configured, other] of [
      ["localhost", "127.0.0.1"],
      ["127.0.0.1", "localhost"],
    ] as const) {
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const port = String((server.address() as AddressInfo).port);
      server.on(
        "request",
        createMcpHttpApp({
          repo: createTaskRepository(database.db),
          tokenSecret: TEST_SECRET,
          mcpUrl: new URL(`http://${configured}:${port}/mcp`),
          authorizationServer: new URL("http://127.0.0.1:8787"),
          allowedHosts: [configured],
          allowedOrigins: [`http://${configured}:${port}`],
          logger: silentLogger,
        }),
      );
      try {
        expect(await statusWithHost(port, `${other}:${port}`), `${configured} → ${other}`).toBe(401);
        const host = `${configured}:${port}`;
        expect(await statusWithHost(port, host, `http://${other}:${port}`), `Origin ${other}`).toBe(401);
        expect(await statusWithHost(port, host, `http://${other}:1`)).toBe(403);
        expect(await statusWithHost(port, host, `https://${other}:${port}`)).toBe(403);
        expect(await statusWithHost(port, `${other}:1`)).toBe(403);
        expect(await statusWithHost(port, `example.com:${port}`)).toBe(403);
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    }
  });

  it("allow a configured host with a port on that port only", async () => {
    const { createServer } = await import("node:http");
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = String((server.address() as AddressInfo).port);
    server.on(
      "request",
      createMcpHttpApp({
        repo: createTaskRepository(database.db),
        tokenSecret: TEST_SECRET,
        mcpUrl: new URL("https://mcp.example.com/mcp"),
        authorizationServer: new URL("https://example.com"),
        allowedHosts: ["mcp.internal:9000"],
        allowedOrigins: [],
        logger: silentLogger,
      }),
    );
    try {
      expect(await statusWithHost(port, "mcp.example.com")).toBe(401); // the public name, through a proxy
      expect(await statusWithHost(port, "mcp.internal:9000")).toBe(401);
      expect(await statusWithHost(port, `mcp.internal:${port}`)).toBe(403);
      expect(await statusWithHost(port, "mcp.example.com:8443")).toBe(403);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
