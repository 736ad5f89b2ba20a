import type { RequestHandler } from "express";
import { hostsOf, originsOf } from "../config.ts";

export type HostOriginOptions = {
  publicUrl: URL;
  extensionOrigins: string[];
  /** Extra Host names (ALLOWED_HOSTS): `name` matches any port, `name:port` that port only. */
  allowedHosts?: string[];
  /** Paths any browser origin may call (the OAuth endpoints MCP clients use); the Host check still holds. */
  anyOriginPath?: (path: string) => boolean;
};

// Probes (Kubernetes sends the pod's IP as Host) and scrapers; nothing on them is worth rebinding to.
const OPERATIONS_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);

/** Browser origins the gateway serves: its own pages and the extension (loopback twins included). */
export function allowedOrigins(opts: HostOriginOptions): Set<string> {
  return new Set([...originsOf(opts.publicUrl.origin), ...opts.extensionOrigins.flatMap(originsOf)]);
}

/**
 * DNS-rebinding defence for every route: the Host must name this gateway (PUBLIC_URL, with 127.0.0.1 and
 * localhost standing in for each other, or ALLOWED_HOSTS), and a browser's Origin must be the gateway's
 * own or the extension's. Requests without an Origin (non-browser clients) pass the Origin check.
 */
export function hostAndOriginAllowlist(opts: HostOriginOptions): RequestHandler {
  const exact = new Set(hostsOf(opts.publicUrl));
  const anyPort = new Set<string>();
  for (const entry of opts.allowedHosts ?? []) (entry.includes(":") ? exact : anyPort).add(entry);
  const origins = allowedOrigins(opts);

  return (req, res, next) => {
    const host = (req.headers.host ?? "").toLowerCase();
    const hostOk = exact.has(host) || anyPort.has(host.replace(/:\d+$/, ""));
    if (!hostOk && !OPERATIONS_PATHS.has(req.path)) {
      res
        .status(403)
        .json({ error: { code: "invalid_host", message: "This Host is not served here (see PUBLIC_URL)." } });
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !origins.has(origin) && !opts.anyOriginPath?.(req.path)) {
      res
        .status(403)
        .json({ error: { code: "invalid_origin", message: "Requests from this Origin are not allowed." } });
      return;
    }
    next();
  };
}
