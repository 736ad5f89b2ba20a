import type { IncomingMessage } from "node:http";
import type { RequestHandler } from "express";

const LOOPBACK = ["127.0.0.1", "localhost", "[::1]"];
const HOST = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i;

/** A host name and, when written, its port; `exact`: only that port (an allowed entry written with one). */
type HostEntry = { name: string; port: string | undefined; exact: boolean };

function parseHost(host: string, exact = false): HostEntry | undefined {
  const m = HOST.exec(host);
  return m ? { name: (m[1] ?? "").toLowerCase(), port: m[2], exact: exact && m[2] !== undefined } : undefined;
}

/**
 * DNS-rebinding defence for the MCP server, port-aware. A Host is accepted when its name is allowed and its port
 * is one this server is reached on: the port the connection arrived at, the public URL's port, or none (a proxy
 * passing the public name on). An allowed entry written with a port (`mcp.internal:9000`) allows that port only.
 * `localhost`, `127.0.0.1` and `[::1]` are one host: allowing one allows the others, on the same ports.
 */
export function hostAllowlist(allowedHosts: string[], publicUrl: URL): RequestHandler {
  const allowed = hostMatcher(allowedHosts, publicUrl);
  return (req, res, next) => {
    if (allowed(req)) return next();
    res.status(403).json({
      jsonrpc: "2.0",
      error: { code: -32000, message: `Invalid Host: ${(req.headers.host ?? "(none)").slice(0, 100)}` },
      id: null,
    });
  };
}

/** Whether a request's Host is one `hostAllowlist` accepts. */
export function hostMatcher(allowedHosts: string[], publicUrl: URL): (req: IncomingMessage) => boolean {
  const entries = allowedHosts.map((h) => parseHost(h, true)).filter((e) => e !== undefined);
  entries.push({ name: publicUrl.hostname, port: publicUrl.port || undefined, exact: false });
  for (const entry of [...entries]) {
    if (LOOPBACK.includes(entry.name)) entries.push(...LOOPBACK.map((name) => ({ ...entry, name })));
  }
  return (req) => {
    const host = parseHost(req.headers.host ?? "");
    const arrivedOn = String(req.socket.localPort);
    return (
      host !== undefined &&
      entries.some(
        (e) =>
          e.name === host.name &&
          (host.port === e.port || (!e.exact && (host.port === undefined || host.port === arrivedOn))),
      )
    );
  };
}
