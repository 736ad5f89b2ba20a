import type { IncomingMessage } from "node:http";
import { createRequire } from "node:module";
import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger };

// Database errors carry the statement's parameters (session tokens, task titles and notes) in `params`,
// `parameters`, `detail` and, for drizzle, in the message itself. Only these fields are kept.
const KEPT_ERROR_FIELDS = [
  "code",
  "errno",
  "severity",
  "routine",
  "constraint",
  "constraint_name",
  "table",
  "table_name",
  "column",
  "column_name",
  "schema_name",
  "status",
  "statusCode",
] as const;

/** A quoted value at the end of a database message (`invalid input syntax for type uuid: "…"`). */
const QUOTED_VALUE = /:\s*"[\s\S]*"\s*$/;

function safeMessage(message: string): string {
  // drizzle: "Failed query: <sql>\nparams: <values>" — the SQL has placeholders only; the values go.
  const withoutParams = message.replace(/\nparams:[\s\S]*$/, "");
  return withoutParams.replace(QUOTED_VALUE, ': "[redacted]"').slice(0, 2000);
}

/**
 * pino's `err` serializer: an error's type, a message without query parameters or quoted values, its stack
 * frames and causes. Used by every logger of the gateway and the MCP server.
 */
export function serializeError(err: unknown, depth = 0): Record<string, unknown> {
  // pino-http passes pino's own serialization of the error, which keeps the error itself as `raw`.
  const raw = (err as { raw?: unknown } | null)?.raw;
  if (!(err instanceof Error) && raw instanceof Error) return serializeError(raw, depth);
  if (!(err instanceof Error)) {
    return { type: typeof err, message: typeof err === "string" ? safeMessage(err) : "[non-error value]" };
  }
  const out: Record<string, unknown> = {
    type: err.constructor?.name ?? err.name,
    message: safeMessage(err.message),
  };
  for (const field of KEPT_ERROR_FIELDS) {
    const value = (err as unknown as Record<string, unknown>)[field];
    if (typeof value === "string" || typeof value === "number") out[field] = value;
  }
  const frames = (err.stack ?? "").split("\n").filter((line) => /^\s+at /.test(line));
  if (frames.length) out.stack = `${out.type}: ${out.message}\n${frames.join("\n")}`;
  if (err.cause !== undefined && depth < 3) out.cause = serializeError(err.cause, depth + 1);
  return out;
}

/** pino-http's `req` serializer: the path without its query string (search text, user codes, cursors). */
export function serializeRequest(req: IncomingMessage & { id?: unknown; originalUrl?: string }) {
  const url = req.originalUrl ?? req.url ?? "";
  return {
    id: req.id,
    method: req.method,
    path: url.split("?")[0],
    headers: req.headers,
    remoteAddress: req.socket?.remoteAddress,
  };
}

/** pino-pretty, loaded only by a process a person watches: servers that log JSON never load it. */
function prettyStream(fd: 1 | 2): DestinationStream {
  const pretty = createRequire(import.meta.url)("pino-pretty") as typeof import("pino-pretty");
  return pretty({ destination: fd, ignore: "pid,hostname", translateTime: "HH:MM:ss" });
}

/**
 * JSON logs (pretty lines for a person at a terminal); credentials, query parameters and database parameters
 * never reach them. `fd` 2 keeps stdout free for the stdio protocol; `destination` lets tests read what would
 * be written.
 */
export function createLogger(
  level: string,
  opts: { name?: string; fd?: 1 | 2; destination?: DestinationStream; pretty?: boolean } = {},
): Logger {
  return pino(
    {
      name: opts.name ?? "margin",
      level,
      serializers: { err: serializeError, error: serializeError },
      redact: {
        paths: [
          "req.headers.authorization",
          "req.headers.cookie",
          "req.headers['x-api-key']",
          'res.headers["set-auth-token"]',
          'res.headers["set-cookie"]',
          // Redirects carry OAuth authorization codes to the client's redirect URI.
          "res.headers.location",
          "*.password",
          "*.token",
          "*.key",
          "*.params",
          "*.parameters",
        ],
        censor: "[redacted]",
      },
    },
    opts.destination ??
      (opts.pretty ? prettyStream(opts.fd ?? 1) : pino.destination({ fd: opts.fd ?? 1, sync: false })),
  );
}
