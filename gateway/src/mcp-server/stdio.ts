import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { eq } from "drizzle-orm";
import type { Logger } from "pino";
import { ConfigError, isTimeZone } from "../config.ts";
import { user } from "../db/auth-schema.ts";
import type { Database } from "../db/connect.ts";
import { createTaskRepository, type TaskOwner } from "../tasks/repository.ts";
import { createMcpServer } from "./server.ts";

export type StdioSession = {
  /** Resolves once the client is gone (stdin ended or closed). */
  ended: Promise<void>;
  close(): Promise<void>;
};

/**
 * The same tools over stdio for one local user (named in the environment): stdio has no HTTP auth, so the
 * process's operator is the user (MCP spec: stdio servers take credentials from the environment). The user must
 * be an account here, and dates use the account's zone unless `tz` (MARGIN_TZ) overrides it.
 */
export async function serveStdio(
  database: Database,
  named: { id: string; tz: string | undefined },
  logger: Logger,
): Promise<StdioSession> {
  const owner = await stdioOwner(database, named);
  const server = createMcpServer({
    repo: createTaskRepository(database.db),
    resolveOwner: () => owner,
    onFault: (err, tool) => logger.error({ err, tool }, "tool failed"),
  });
  // The SDK's stdio transport never notices stdin closing; the client leaving is the end of this session.
  const ended = new Promise<void>((resolve) => {
    process.stdin.once("end", resolve);
    process.stdin.once("close", resolve);
  });
  await server.connect(new StdioServerTransport());
  logger.info({ user: owner.id, tz: owner.tz }, "MCP server on stdio");
  return { ended, close: () => server.close() };
}

async function stdioOwner(
  database: Database,
  named: { id: string; tz: string | undefined },
): Promise<TaskOwner> {
  const [account] = await database.db
    .select({ timezone: user.timezone })
    .from(user)
    .where(eq(user.id, named.id));
  if (!account) {
    throw new ConfigError(
      `MARGIN_USER_ID "${named.id.slice(0, 100)}" is not an account in this database. ` +
        '"margin user show --email you@example.com" prints your id.',
    );
  }
  const accountZone = account.timezone && isTimeZone(account.timezone) ? account.timezone : "UTC";
  return { id: named.id, tz: named.tz ?? accountZone };
}
