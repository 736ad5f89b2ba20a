// The task service client's fetch over node:http: what the MCP SDK transport reads from it behaves as fetch's
// Response would, and a down server is a network failure the gateway answers with 503.
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TaskServiceError } from "../../src/task-service/errors.ts";
import { createHttpFetch } from "../../src/task-service/http-fetch.ts";

let server: Server;
let base: string;
const client = createHttpFetch();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      if (req.url === "/echo") {
        res.writeHead(200, { "content-type": "application/json", "x-seen-auth": req.headers.authorization });
        res.end(JSON.stringify({ method: req.method, body }));
      } else if (req.url === "/accepted") {
        res.writeHead(202).end();
      } else if (req.url === "/events") {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write("data: one\n\n");
        setTimeout(() => res.end("data: two\n\n"), 50);
      } else {
        res.writeHead(404, { "content-type": "text/plain" }).end("no such thing");
      }
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  client.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("the task service client's fetch", () => {
  it("sends method, headers and body, and answers with status, headers and JSON", async () => {
    const res = await client.fetch(`${base}/echo`, {
      method: "POST",
      headers: new Headers({ authorization: "Bearer abc", "content-type": "application/json" }),
      body: '{"hello":"world"}',
    });
    expect(res.ok).toBe(true);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("x-seen-auth")).toBe("Bearer abc");
    expect(await res.json()).toEqual({ method: "POST", body: '{"hello":"world"}' });
  });

  it("reports errors and empty answers as fetch does", async () => {
    const missing = await client.fetch(`${base}/nowhere`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe("no such thing");
    const accepted = await client.fetch(`${base}/accepted`, { method: "POST", body: "{}" });
    expect(accepted.status).toBe(202);
    expect(await accepted.text()).toBe("");
  });

  it("passes an event stream on as it arrives", async () => {
    const res = await client.fetch(`${base}/events`);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    expect((await reader.read()).value).toBe("data: one\n\n");
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += r.value;
    expect(rest).toBe("data: two\n\n");
  });

  it("a server that is down is a network failure: the task service is unavailable", async () => {
    const down = createServer();
    down.listen(0, "127.0.0.1");
    await once(down, "listening");
    const url = `http://127.0.0.1:${(down.address() as AddressInfo).port}/mcp`;
    await new Promise((resolve) => down.close(resolve));
    const failure = await client.fetch(url, { method: "POST", body: "{}" }).catch((err: unknown) => err);
    expect(TaskServiceError.from(failure).unavailable).toBe(true);
  });

  it("refuses bodies it would not send as they are", async () => {
    await expect(
      client.fetch(`${base}/echo`, { method: "POST", body: new Uint8Array([1, 2]) }),
    ).rejects.toThrow(/JSON text bodies/);
  });
});
