// Issue 12 item 3: no query parameters, session tokens or database parameters in the logs.
import { DrizzleQueryError } from "drizzle-orm/errors";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, serializeError } from "../../src/logger.ts";
import { signUp } from "../support/auth.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { type GatewayHarness, startGatewayHarness } from "../support/gateway.ts";

let database: TestDatabase;
let gw: GatewayHarness;
const lines: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  const logger = createLogger("debug", { destination: { write: (line: string) => void lines.push(line) } });
  gw = await startGatewayHarness(database, { logger });
});
afterAll(async () => {
  await gw?.close();
  await database?.destroy();
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
});
