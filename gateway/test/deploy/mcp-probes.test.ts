import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMcpHttpApp } from "../../src/mcp-server/http.ts";
import { createTaskRepository } from "../../src/tasks/repository.ts";
import { silentLogger } from "../support/mcp.ts";
import { databaseForFile } from "../support/suite.ts";

const database = databaseForFile();
let reachable = true;
let base: { port: number; close(): void };

beforeAll(async () => {
  const listener = createMcpHttpApp({
    repo: createTaskRepository(database.db),
    tokenSecret: "probe-test-secret-".padEnd(40, "x"),
    mcpUrl: new URL("http://mcp:8788/mcp"),
    authorizationServer: new URL("http://127.0.0.1:8787"),
    allowedHosts: ["mcp"],
    allowedOrigins: [],
    logger: silentLogger,
    checkDatabase: () => (reachable ? database.db.execute(sql`select 1`) : Promise.reject(new Error("down"))),
  });
  const server = createServer(listener).listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  base = { port: (server.address() as AddressInfo).port, close: () => server.close() };
});
afterAll(async () => {
  base?.close();
});

/** GET with the Host a probe sends: the pod's address, which is in no allowlist. */
function probe(path: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    request(
      { port: base.port, host: "127.0.0.1", path, headers: { host: `10.1.2.3:${base.port}` } },
      (res) => {
        let text = "";
        res.on("data", (c) => {
          text += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    )
      .on("error", reject)
      .end();
  });
}

describe("the MCP server's probes (Docker health checks, Kubernetes)", () => {
  it("answers /healthz and /readyz from any Host", async () => {
    expect(await probe("/healthz")).toEqual({ status: 200, body: { status: "ok" } });
    expect(await probe("/readyz")).toEqual({
      status: 200,
      body: { status: "ready", checks: { database: "ok" } },
    });
  });

  it("is not ready while the database is unreachable, yet alive", async () => {
    reachable = false;
    try {
      expect(await probe("/readyz")).toEqual({
        status: 503,
        body: { status: "not_ready", checks: { database: "unreachable" } },
      });
      expect((await probe("/healthz")).status).toBe(200);
    } finally {
      reachable = true;
    }
  });

  it("still refuses other paths from an unknown Host", async () => {
    expect((await probe("/mcp")).status).toBe(403);
  });
});
