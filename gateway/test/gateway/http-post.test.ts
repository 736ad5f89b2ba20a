// How the gateway POSTs to its MCP server (task service client and /mcp proxy): answers read whole, byte for
// byte, and a server that goes quiet or is down is "unavailable" (503), never a hang.
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TaskServiceError } from "../../src/task-service/errors.ts";
import { createHttpPoster } from "../../src/task-service/http-post.ts";

let server: Server;
let url: URL;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      if (req.url === "/quiet") return; // never answers
      // The answer in two writes that split a multi-byte character.
      const answer = Buffer.from(
        JSON.stringify({ got: body.toString("utf8"), length: req.headers["content-length"] }),
      );
      const cut = answer.indexOf(Buffer.from("é")) + 1;
      res.writeHead(201, { "content-type": "application/json", "mcp-protocol-version": "2025-06-18" });
      res.write(answer.subarray(0, cut));
      setTimeout(() => res.end(answer.subarray(cut)), 5);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`);
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("POSTs to the MCP server", () => {
  it("send the body with its byte length and return the answer whole, status and headers included", async () => {
    const poster = createHttpPoster(url);
    const answer = await poster.post({ "content-type": "application/json" }, '"café ☕"');
    expect(answer.status).toBe(201);
    expect(answer.headers["mcp-protocol-version"]).toBe("2025-06-18");
    expect(JSON.parse(answer.body.toString("utf8"))).toEqual({ got: '"café ☕"', length: "11" });
    poster.close();
  });

  it("give up on a server that goes quiet, as unavailable", async () => {
    const poster = createHttpPoster(new URL("/quiet", url));
    const failure = await poster.post({}, "{}", 100).then(
      () => new Error("answered"),
      (err: unknown) => err,
    );
    expect((failure as Error).name).toBe("TimeoutError");
    expect(TaskServiceError.from(failure).unavailable).toBe(true);
    poster.close();
  });

  it("report a server that is down as unavailable", async () => {
    const down = createServer();
    down.listen(0, "127.0.0.1");
    await once(down, "listening");
    const downUrl = new URL(`http://127.0.0.1:${(down.address() as AddressInfo).port}/mcp`);
    await new Promise((resolve) => down.close(resolve));
    const poster = createHttpPoster(downUrl);
    const failure = await poster.post({}, "{}").then(
      () => new Error("answered"),
      (err: unknown) => err,
    );
    expect(TaskServiceError.from(failure).unavailable).toBe(true);
    poster.close();
  });
});
