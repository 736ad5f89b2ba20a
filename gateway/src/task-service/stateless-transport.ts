import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { createHttpPoster, type HttpPoster } from "./http-post.ts";

export type StatelessTransportOptions = {
  /** Headers for each request, read when it is sent (the calling user's bearer token). */
  headers: () => Record<string, string>;
  maxSockets?: number;
};

/**
 * The MCP client transport the gateway uses for its own task service: Streamable HTTP as a stateless server
 * answers it, each message one POST over node:http(s) keep-alive sockets (http-post.ts), each answer JSON.
 *
 * Why not the SDK's StreamableHTTPClientTransport: it goes through fetch and WHATWG Request/Response/Headers
 * objects and validates every message it receives with zod, which cost about 0.2 ms of CPU per call, as much as
 * the rest of the call's client side (measured against this transport, same Client, same server). It also hands
 * every request the transport's one long-lived abort signal, on which undici leaves a listener per request until
 * garbage collection. This server never streams (it answers with JSON and has no sessions), so none of the SSE,
 * resumption or session machinery is needed: an event-stream answer is refused with an error that says so.
 * HTTP failures are the SDK's StreamableHTTPError, as before, so callers tell them apart the same way.
 */
export class StatelessHttpTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private protocolVersion: string | undefined;
  private readonly headers: () => Record<string, string>;
  private readonly poster: HttpPoster;

  constructor(url: URL, opts: StatelessTransportOptions) {
    this.headers = opts.headers;
    this.poster = createHttpPoster(url, { maxSockets: opts.maxSockets });
  }

  async start(): Promise<void> {}

  setProtocolVersion(version: string): void {
    this.protocolVersion = version;
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const headers: Record<string, string> = {
      ...this.headers(),
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    };
    if (this.protocolVersion) headers["mcp-protocol-version"] = this.protocolVersion;
    const answer = await this.poster.post(headers, JSON.stringify(message));
    this.receive(answer.status, answer.headers["content-type"], answer.body.toString("utf8"));
  }

  private receive(status: number, contentType: string | undefined, text: string) {
    if (status === 202) return;
    if (status < 200 || status > 299)
      throw new StreamableHTTPError(status, `Error POSTing to endpoint: ${text.slice(0, 500)}`);
    if (!contentType?.startsWith("application/json"))
      throw new StreamableHTTPError(
        -1,
        `Unexpected content type: ${contentType} (this client takes JSON only)`,
      );
    const data: unknown = JSON.parse(text);
    const messages = Array.isArray(data) ? data : [data];
    // The SDK's Protocol reads responses by shape; anything not JSON-RPC 2.0 is the server's fault.
    for (const message of messages) {
      if (typeof message !== "object" || message === null || message.jsonrpc !== "2.0")
        throw new StreamableHTTPError(-1, "The server answered with something that is not JSON-RPC 2.0");
    }
    for (const message of messages) this.onmessage?.(message as JSONRPCMessage);
  }

  async close(): Promise<void> {
    this.poster.close();
    this.onclose?.();
  }
}
