import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { ChatAgent } from "../../src/agent/contract.ts";
import type { Auth } from "../../src/auth/auth.ts";
import { createGateway, type GatewayOptions } from "../../src/http/server.ts";
import type { Logger } from "../../src/logger.ts";
import type { TestDatabase } from "./database.ts";
import { type McpHttpHarness, silentLogger, startMcpHttpHarness, TEST_SECRET } from "./mcp.ts";

export const EXTENSION_ORIGIN = "chrome-extension://abcdefghijklmnopabcdefghijklmnop";

export type GatewayHarness = {
  baseUrl: string;
  auth: Auth;
  mcp: McpHttpHarness;
  /** fetch against the gateway with a bearer token. */
  api(path: string, token: string | undefined, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
};

/** The real gateway (auth, REST, SSE, MCP proxy) in front of the real MCP server, both on loopback ports. */
export async function startGatewayHarness(
  database: TestDatabase,
  opts: {
    writeRateLimitPerMinute?: number;
    sseHeartbeatMs?: number;
    mcp?: McpHttpHarness;
    logger?: Logger;
    chatAgent?: ChatAgent;
    chatTurnsPerMinute?: number;
    chatRetentionDays?: number;
    extensionOrigins?: string[];
    panelDir?: string;
  } & Partial<Omit<GatewayOptions, "logger">> = {},
): Promise<GatewayHarness> {
  const mcp = opts.mcp ?? (await startMcpHttpHarness(database));
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Options left undefined keep the harness's defaults below.
  const options = Object.fromEntries(
    Object.entries(opts).filter(([name, value]) => name !== "mcp" && value !== undefined),
  ) as Partial<GatewayOptions>;
  const gateway = await createGateway(database, {
    publicUrl: new URL(baseUrl),
    mcpUrl: mcp.url,
    mcpTokenSecret: TEST_SECRET,
    betterAuthSecret: "gateway-test-secret-".padEnd(48, "x"),
    extensionOrigins: opts.extensionOrigins ?? [EXTENSION_ORIGIN],
    panelDir: opts.panelDir,
    writeRateLimitPerMinute: opts.writeRateLimitPerMinute ?? 10_000,
    logger: opts.logger ?? silentLogger,
    sseHeartbeatMs: opts.sseHeartbeatMs,
    mcpTimeoutMs: 3000,
    chatAgent: opts.chatAgent,
    chatTurnsPerMinute: opts.chatTurnsPerMinute ?? 10_000,
    chatRetentionDays: opts.chatRetentionDays ?? 0,
    trustProxy: false,
    allowedHosts: [],
    // Suites sign many users up from one address; the security suite sets the production limits.
    throttle: {
      signUpsPerIp: 1e6,
      deviceCodesPerIp: 1e6,
      signInFailuresPerIp: 1e6,
      clientRegistrationsPerIp: 1e6,
    },
    ...options,
  });
  server.on("request", gateway.app);
  return {
    baseUrl,
    auth: gateway.auth,
    mcp,
    api: (path, token, init = {}) =>
      fetch(baseUrl + path, {
        ...init,
        headers: {
          ...(init.body ? { "content-type": "application/json" } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(init.headers as Record<string, string> | undefined),
        },
      }),
    async close() {
      await gateway.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      if (!opts.mcp) await mcp.close();
    },
  };
}

/** POSTs a JSON-RPC message to the gateway's /mcp as a Streamable HTTP client does, with a bearer token if given. */
export function postMcp(
  gw: Pick<GatewayHarness, "baseUrl">,
  token: string | undefined,
  message: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${gw.baseUrl}/mcp`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: JSON.stringify(message),
  });
}

export type SseEvent = { id?: string; event?: string; data?: string; receivedAt: number };

/** Reads an SSE response into events; `next(predicate, ms)` waits for a matching event or fails. */
export function readSse(res: Response) {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const waiters = new Set<() => void>();
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  const done = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let end = buffer.indexOf("\n\n");
        while (end !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: SseEvent = { receivedAt: performance.now() };
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) comments.push(line);
            const [field, ...rest] = line.split(":");
            const value = rest.join(":").replace(/^ /, "");
            if (field === "id" || field === "event" || field === "data") event[field] = value;
          }
          if (Object.keys(event).length > 1) events.push(event);
          for (const wake of waiters) wake();
          end = buffer.indexOf("\n\n");
        }
      }
    } catch {
      // the stream was cancelled
    } finally {
      for (const wake of waiters) wake();
    }
  })();
  return {
    events,
    comments,
    /** The `change` events' payloads, each with the moment it arrived (performance.now()). */
    changes: () =>
      events
        .filter((e) => e.event === "change")
        .map((e) => ({ ...JSON.parse(e.data!), arrivedAt: e.receivedAt })),
    async waitFor(predicate: (events: SseEvent[]) => boolean, ms = 5000) {
      const deadline = Date.now() + ms;
      while (!predicate(events)) {
        if (Date.now() > deadline)
          throw new Error(`SSE: timed out; got ${JSON.stringify(events).slice(0, 500)}`);
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiters.delete(wake);
            resolve();
          };
          waiters.add(wake);
          setTimeout(wake, 50);
        });
      }
    },
    async close() {
      await reader.cancel().catch(() => {});
      await done;
    },
    done,
  };
}
