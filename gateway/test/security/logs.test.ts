// Issue 12 item 3: no query parameters, session tokens or database parameters in the logs.
import type { IncomingMessage, ServerResponse } from "node:http";
import { DrizzleQueryError } from "drizzle-orm/errors";
import { pinoHttp } from "pino-http";
import { describe, expect, it } from "vitest";
import { createLogger, serializeError, serializeRequest } from "../../src/logger.ts";
import { signUp } from "../support/auth.ts";
import { gatewayForFile } from "../support/gateway-for-file.ts";

const lines: string[] = [];
const { gw } = gatewayForFile({
  logger: createLogger("debug", { destination: { write: (line: string) => void lines.push(line) } }),
});

describe("logs", () => {
  it("log request paths without their query strings", async () => {
    const token = await signUp(gw.baseUrl, "searcher@example.com");
    await gw.api("/api/tasks?query=my-private-search-words", token);
    await gw.api("/device?user_code=ABCD-SECRET", undefined);
    const log = lines.join("\n");
    expect(log).toContain('"path":"/api/tasks"');
    expect(log).not.toContain("my-private-search-words");
    expect(log).not.toContain("ABCD-SECRET");
  });

  it("keep a database error's statement but never its parameters or quoted values", () => {
    const token = "session-token-abcdef123456";
    const cause = Object.assign(new Error(`invalid input syntax for type uuid: "${token}"`), {
      code: "22P02",
      detail: `Key (token)=(${token}) already exists.`,
      parameters: [token],
    });
    const err = new DrizzleQueryError(
      'select * from "session" where "token" = $1',
      [token, "Buy milk"],
      cause,
    );
    const out = JSON.stringify(serializeError(err));
    expect(out).toContain('where \\"token\\" = $1');
    expect(out).toContain("22P02");
    expect(out).not.toContain(token);
    expect(out).not.toContain("Buy milk");

    const written: string[] = [];
    const logger = createLogger("info", {
      destination: { write: (line: string) => void written.push(line) },
    });
    logger.error({ err, tool: "add_task" }, "tool failed");
    expect(written.join("")).not.toContain(token);
    expect(written.join("")).not.toContain("Buy milk");
  });

  it("keep the error of a request's log line, as the gateway's request logger writes it", () => {
    // pino-http hands the `err` serializer pino's own serialization, not the error: it logged
    // "[non-error value]" for every failed request, so a fault left nothing to go on.
    const written: string[] = [];
    const logger = createLogger("info", {
      destination: { write: (line: string) => void written.push(line) },
    });
    const httpLogger = pinoHttp({ logger, serializers: { req: serializeRequest, err: serializeError } });
    const req = { method: "GET", url: "/api/tasks", headers: {}, socket: {} } as unknown as IncomingMessage;
    const res = { statusCode: 500, getHeader: () => undefined, setHeader: () => {}, on: () => {} };
    httpLogger(req, res as unknown as ServerResponse, () => {});
    const cause = Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), {
      code: "22021",
    });
    const err = new DrizzleQueryError('update "user" set "name" = $1', ["Secret name"], cause);
    (req as IncomingMessage & { log: typeof logger }).log.error({ err }, "request failed");
    const line = JSON.parse(written.join(""));
    expect(line.err).toMatchObject({ type: "DrizzleQueryError", cause: { code: "22021" } });
    expect(line.err.message).toContain('update "user" set');
    expect(written.join("")).not.toContain("Secret name");
  });
});
