import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger };

/**
 * JSON logs; credentials never reach them. `fd` 2 keeps stdout free for the stdio protocol; `destination`
 * lets tests read what would be written.
 */
export function createLogger(
  level: string,
  opts: { name?: string; fd?: 1 | 2; destination?: DestinationStream } = {},
): Logger {
  return pino(
    {
      name: opts.name ?? "margin",
      level,
      redact: {
        paths: [
          "req.headers.authorization",
          "req.headers.cookie",
          "req.headers['x-api-key']",
          'res.headers["set-auth-token"]',
          'res.headers["set-cookie"]',
          "*.password",
          "*.token",
          "*.key",
        ],
        censor: "[redacted]",
      },
    },
    opts.destination ?? pino.destination({ fd: opts.fd ?? 1, sync: false }),
  );
}
