import { once } from "node:events";
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll } from "vitest";

/** An HTTP server on a free loopback port, and the /mcp URL there. */
async function listenOnLoopback(listener?: RequestListener): Promise<{ server: Server; url: URL }> {
  const server = createServer(listener);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { server, url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`) };
}

/** A stand-in MCP server answering with `listener` for the file's tests; `url` is set in beforeAll. */
export function mcpStandInForFile(listener: RequestListener): { url: URL } {
  const standIn = {} as { url: URL };
  let server: Server;
  beforeAll(async () => {
    ({ server, url: standIn.url } = await listenOnLoopback(listener));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return standIn;
}

/** The /mcp URL of a loopback port that was just let go: a server that is down. */
export async function downMcpUrl(): Promise<URL> {
  const { server, url } = await listenOnLoopback();
  await new Promise((resolve) => server.close(resolve));
  return url;
}
