// The gateway's MCP client transport to its own task service: one POST per message, JSON answers, and HTTP
// failures the task service client tells apart (down or failing → 503; refused → 502).
import type { IncomingHttpHeaders } from "node:http";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import { TaskServiceError } from "../../src/task-service/errors.ts";
import { StatelessHttpTransport } from "../../src/task-service/stateless-transport.ts";
import { downMcpUrl, mcpStandInForFile } from "../support/loopback.ts";

type Seen = { headers: IncomingHttpHeaders; body: string };
type Answer = { status: number; type?: string; body?: string };

const seen: Seen[] = [];
let answer: Answer = { status: 200 };

const mcp = mcpStandInForFile((req, res) => {
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (chunk: string) => {
    body += chunk;
  });
  req.on("end", () => {
    seen.push({ headers: req.headers, body });
    res.writeHead(answer.status, answer.type ? { "content-type": answer.type } : {});
    res.end(answer.body ?? "");
  });
});

const ping: JSONRPCMessage = { jsonrpc: "2.0", id: 7, method: "ping" };

function transport(token = "t-1") {
  const received: JSONRPCMessage[] = [];
  const t = new StatelessHttpTransport(mcp.url, { headers: () => ({ authorization: `Bearer ${token}` }) });
  t.onmessage = (m) => received.push(m);
  return { t, received };
}

const failureOf = async (t: StatelessHttpTransport) =>
  TaskServiceError.from(
    await t.send(ping).then(
      () => new Error("sent"),
      (err: unknown) => err,
    ),
  );

describe("the task service transport", () => {
  it("POSTs each message as JSON with its length and the caller's headers, and passes the answer on", async () => {
    const { t, received } = transport("user-token");
    answer = { status: 200, type: "application/json", body: '{"jsonrpc":"2.0","id":7,"result":{}}' };
    t.setProtocolVersion("2025-11-25");
    await t.send(ping);
    const request = seen.at(-1)!;
    expect(JSON.parse(request.body)).toEqual(ping);
    expect(request.headers).toMatchObject({
      authorization: "Bearer user-token",
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "content-length": String(Buffer.byteLength(request.body)),
      "mcp-protocol-version": "2025-11-25",
    });
    expect(request.headers["transfer-encoding"]).toBeUndefined();
    expect(received).toEqual([{ jsonrpc: "2.0", id: 7, result: {} }]);
    await t.close();
  });

  it("takes a 202 (a notification accepted) as done, with nothing to deliver", async () => {
    const { t, received } = transport();
    answer = { status: 202 };
    await t.send({ jsonrpc: "2.0", method: "notifications/initialized" });
    expect(received).toEqual([]);
    await t.close();
  });

  it("a failing server is unavailable (503 to clients); a refusal is not", async () => {
    const { t } = transport();
    answer = { status: 500, type: "application/json", body: "{}" };
    expect((await failureOf(t)).unavailable).toBe(true);
    answer = { status: 401, type: "application/json", body: '{"error":"invalid_token"}' };
    const refused = await failureOf(t);
    expect(refused.unavailable).toBe(false);
    expect(String((refused.cause as Error).message)).toContain("invalid_token");
    await t.close();
  });

  it("a server that is down is unavailable", async () => {
    const downUrl = await downMcpUrl();
    const t = new StatelessHttpTransport(downUrl, { headers: () => ({}) });
    expect((await failureOf(t)).unavailable).toBe(true);
    await t.close();
  });

  it("refuses answers it cannot read: an event stream, or JSON that is not JSON-RPC", async () => {
    const { t, received } = transport();
    answer = {
      status: 200,
      type: "text/event-stream",
      body: 'data: {"jsonrpc":"2.0","id":7,"result":{}}\n\n',
    };
    await expect(t.send(ping)).rejects.toThrow(/JSON only/);
    answer = { status: 200, type: "application/json", body: '{"id":7,"result":{}}' };
    await expect(t.send(ping)).rejects.toThrow(/not JSON-RPC 2.0/);
    expect(received).toEqual([]);
    await t.close();
  });
});
