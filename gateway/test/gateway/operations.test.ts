import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.ts";
import { signUp } from "../support/auth.ts";
import { readSse, startGatewayHarness } from "../support/gateway.ts";
import { gatewayForFile } from "../support/gateway-for-file.ts";

const { database, gw } = gatewayForFile();

describe("operations", () => {
  it("answers / with a page that says what this server is and where to sign in", async () => {
    const home = await gw.api("/", undefined);
    expect(home.status).toBe(200);
    expect(home.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await home.text();
    expect(html).toContain("Margin gateway");
    expect(html).toContain('href="/device"');
    // Every link stays on this server.
    expect([...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]).filter((h) => !h?.startsWith("/"))).toEqual(
      [],
    );
  });

  it("reports health and readiness", async () => {
    expect(await (await gw.api("/healthz", undefined)).json()).toEqual({ status: "ok" });
    const ready = await gw.api("/readyz", undefined);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", checks: { database: "ok", mcp_server: "ok" } });
  });

  it("exposes Prometheus metrics for requests, streams and MCP calls", async () => {
    const token = await signUp(gw.baseUrl, "metrics@example.com");
    await gw.api("/api/tasks", token, { method: "POST", body: JSON.stringify({ title: "measured" }) });
    const stream = readSse(await gw.api("/api/changes", token));
    await stream.waitFor((events) => events.some((e) => e.event === "ready"));
    const text = await (await gw.api("/metrics", undefined)).text();
    await stream.close();
    expect(text).toMatch(/margin_http_requests_total\{method="POST",route="\/api\/tasks",status="201"\} 1/);
    expect(text).toMatch(
      /margin_http_request_duration_seconds_bucket\{le="[^"]+",method="POST",route="\/api\/tasks"\}/,
    );
    expect(text).toMatch(/margin_sse_connections 1/);
    expect(text).toMatch(/margin_mcp_call_duration_seconds_count\{tool="add_task",outcome="ok"\} 1/);
    expect(text).not.toMatch(/route="\/api\/tasks\/[0-9a-f-]{36}/); // ids never become labels
  });

  it("tags every response with a request id, keeping a sane incoming one", async () => {
    const generated = await gw.api("/healthz", undefined);
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await gw.api("/healthz", undefined, { headers: { "x-request-id": "trace-123" } });
    expect(kept.headers.get("x-request-id")).toBe("trace-123");
    const replaced = await gw.api("/healthz", undefined, {
      headers: { "x-request-id": "bad id\twith spaces" },
    });
    expect(replaced.headers.get("x-request-id")).not.toContain("bad");
  });

  it("ends live streams with a shutdown event when the gateway stops", async () => {
    const own = await startGatewayHarness(database, { mcp: gw.mcp });
    const token = await signUp(own.baseUrl, "shutdown@example.com");
    const stream = readSse(await own.api("/api/changes", token));
    await stream.waitFor((events) => events.some((e) => e.event === "ready"));
    await own.close();
    await stream.done;
    expect(stream.events.at(-1)?.event).toBe("shutdown");
  });

  it("logs each request as JSON with its request id, and never a credential", async () => {
    const lines: string[] = [];
    const logger = createLogger("info", { destination: { write: (line: string) => void lines.push(line) } });
    const logged = await startGatewayHarness(database, { mcp: gw.mcp, logger });
    try {
      const token = await signUp(logged.baseUrl, "logged@example.com");
      await logged.api("/api/tasks", token, { headers: { "x-request-id": "req-logged-1" } });
      const entries = lines.map((l) => JSON.parse(l));
      const entry = entries.find((e) => e.req?.id === "req-logged-1");
      expect(entry).toMatchObject({ msg: "request completed", res: { statusCode: 200 } });
      expect(entry.req.headers.authorization).toBe("[redacted]");
      const all = lines.join("\n");
      expect(all).not.toContain(token);
      expect(all).not.toContain(token.split(".")[0]);
      expect(all).not.toContain("correct-horse-battery");
    } finally {
      await logged.close();
    }
  });
});
