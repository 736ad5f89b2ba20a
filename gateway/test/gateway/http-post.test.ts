// How the gateway POSTs to its MCP server (task service client and /mcp proxy): answers read whole, byte for
// byte, and a server that goes quiet or is down is "unavailable" (503), never a hang.
import { describe, expect, it } from "vitest";
import { TaskServiceError } from "../../src/task-service/errors.ts";
import { createHttpPoster } from "../../src/task-service/http-post.ts";
import { downMcpUrl, mcpStandInForFile } from "../support/loopback.ts";

const mcp = mcpStandInForFile((req, res) => {
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

describe("POSTs to the MCP server", () => {
  it("send the body with its byte length and return the answer whole, status and headers included", async () => {
    const poster = createHttpPoster(mcp.url);
    const answer = await poster.post({ "content-type": "application/json" }, '"café ☕"');
    expect(answer.status).toBe(201);
    expect(answer.headers["mcp-protocol-version"]).toBe("2025-06-18");
    expect(JSON.parse(answer.body.toString("utf8"))).toEqual({ got: '"café ☕"', length: "11" });
    poster.close();
  });

  it("give up on a server that goes quiet, as unavailable", async () => {
    const poster = createHttpPoster(new URL("/quiet", mcp.url));
    const failure = await poster.post({}, "{}", 100).then(
      () => new Error("answered"),
      (err: unknown) => err,
    );
    expect((failure as Error).name).toBe("TimeoutError");
    expect(TaskServiceError.from(failure).unavailable).toBe(true);
    poster.close();
  });

  it("report a server that is down as unavailable", async () => {
    const downUrl = await downMcpUrl();
    const poster = createHttpPoster(downUrl);
    const failure = await poster.post({}, "{}").then(
      () => new Error("answered"),
      (err: unknown) => err,
    );
    expect(TaskServiceError.from(failure).unavailable).toBe(true);
    poster.close();
  });
});
