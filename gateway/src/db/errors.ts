// Which database failures are the connection's (worth a retry), for the gateway and the MCP server alike.

const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "53300", // too many connections
  "55000", // database not accepting connections
]);

/** A database that dropped or refused the connection (SQLSTATE class 08, 57P0x shutdowns, or the socket). */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && (CONNECTION_CODES.has(code) || /^(08|57P0)/.test(code))) return true;
  }
  return false;
}
