import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { Database } from "../../src/db/connect.ts";
import { createLogger } from "../../src/logger.ts";
import { createMcpHttpApp } from "../../src/mcp-server/http.ts";
import { createMcpServer } from "../../src/mcp-server/server.ts";
import { signMcpToken } from "../../src/mcp-server/token.ts";
import { createTaskRepository, type TaskOwner } from "../../src/tasks/repository.ts";
import { ensureUsers } from "./database.ts";

export const TEST_SECRET = "test-secret-0123456789-0123456789-abcdef";
export const ALLOWED_ORIGIN = "chrome-extension://abcdefghijklmnopabcdefghijklmnop";
export const silentLogger = createLogger("silent");

/** An MCP client talking to a fresh server in-process, as `owner`. */
export async function connectInProcess(
  database: Database,
  owner: TaskOwner,
  clock?: () => Date,
): Promise<Client> {
  await ensureUsers(database, owner.id);
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  const server = createMcpServer({
    repo: createTaskRepository(database.db),
    resolveOwner: () => owner,
    onFault: (err) => {
      throw err;
    },
    clock,
  });
  const client = new Client({ name: "margin-test", version: "1.0.0" });
  await Promise.all([client.connect(clientTransport), server.connect(serverTransport)]);
  return client;
}

export type McpHttpHarness = {
  url: URL;
  token(userId: string, opts?: { tz?: string; ttl?: string | number; audience?: string }): Promise<string>;
  connect(userId: string, tz?: string): Promise<Client>;
  close(): Promise<void>;
};

/** The real HTTP MCP app on a loopback port. */
export async function startMcpHttpHarness(
  database: Database,
  opts: { answerToolCallsDirectly?: boolean } = {},
): Promise<McpHttpHarness> {
  // Listen first so the app knows its real URL (the token audience).
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`);
  const app = createMcpHttpApp({
    repo: createTaskRepository(database.db),
    tokenSecret: TEST_SECRET,
    mcpUrl: url,
    authorizationServer: new URL("http://127.0.0.1:8787"),
    allowedHosts: ["127.0.0.1", "localhost"],
    allowedOrigins: [ALLOWED_ORIGIN],
    logger: silentLogger,
    ...opts,
  });
  server.on("request", app);
  return mcpHarnessAt(url, database, () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  });
}

/** Tokens and clients for an MCP server listening at `url` and signing with TEST_SECRET, in-process or not. */
export function mcpHarnessAt(
  url: URL,
  database: Pick<Database, "db">,
  close: () => Promise<void>,
): McpHttpHarness {
  const harness: McpHttpHarness = {
    url,
    async token(userId, opts = {}) {
      await ensureUsers(database, userId);
      return signMcpToken(TEST_SECRET, {
        userId,
        tz: opts.tz,
        ttl: opts.ttl,
        audience: opts.audience ?? url.href,
      });
    },
    async connect(userId, tz = "UTC") {
      const token = await harness.token(userId, { tz });
      const client = new Client({ name: "margin-test", version: "1.0.0" });
      await client.connect(
        new StreamableHTTPClientTransport(url, {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      return client;
    },
    close,
  };
  return harness;
}

/** Calls a tool and returns its result with `structuredContent` typed loosely for assertions. */
export async function call(client: Client, name: string, args: Record<string, unknown> = {}) {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  // biome-ignore lint/suspicious/noExplicitAny: tests assert on the structured JSON shape directly.
  return result as CallToolResult & { structuredContent: any };
}

export const textOf = (result: CallToolResult) =>
  result.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
