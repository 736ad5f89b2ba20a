import * as http from "node:http";
import * as https from "node:https";
import { Readable } from "node:stream";

/**
 * `fetch` for the MCP client's calls to the task service, over node:http(s) with keep-alive pools.
 *
 * Why not the global fetch: every request from the SDK transport carries the transport's one long-lived abort
 * signal, and undici registers a listener on it per request that goes only when the request is garbage
 * collected. With thousands of calls a minute the listener list grows into the thousands, and undici walks it
 * on every request (a fifth of a REST call's client time in profiles), on top of its WHATWG stream plumbing.
 * node:http removes its listener when the request ends. JSON answers are read whole; an event stream is passed
 * on as a stream.
 */
export function createHttpFetch(maxSockets = 64): { fetch: typeof fetch; close(): void } {
  const agents = {
    "http:": new http.Agent({ keepAlive: true, maxSockets }),
    "https:": new https.Agent({ keepAlive: true, maxSockets }),
  };
  const httpFetch = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> =>
    new Promise((resolve, reject) => {
      const url = new URL(input instanceof Request ? input.url : input);
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        reject(new TypeError(`Not an HTTP URL: ${url.href}`));
        return;
      }
      if (init.body != null && typeof init.body !== "string") {
        reject(new TypeError("The task service client sends JSON text bodies only"));
        return;
      }
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((value, name) => {
        headers[name] = value;
      });
      const send = url.protocol === "https:" ? https.request : http.request;
      const req = send(
        url,
        {
          method: init.method ?? "GET",
          headers,
          agent: agents[url.protocol],
          signal: init.signal ?? undefined,
        },
        (res) => {
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined)
              responseHeaders.set(name, Array.isArray(value) ? value.join(", ") : value);
          }
          const status = res.statusCode ?? 502;
          const meta = { status, statusText: res.statusMessage ?? "", headers: responseHeaders };
          if (responseHeaders.get("content-type")?.startsWith("text/event-stream")) {
            resolve(new Response(Readable.toWeb(res) as ReadableStream, meta));
            return;
          }
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => {
            const empty = status === 204 || status === 304 || init.method === "HEAD";
            resolve(new Response(empty ? null : Buffer.concat(chunks), meta));
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(init.body ?? undefined);
    });
  return {
    fetch: httpFetch as typeof fetch,
    close() {
      agents["http:"].destroy();
      agents["https:"].destroy();
    },
  };
}
