import { writeFile } from "node:fs/promises";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { findUser } from "../auth/accounts.ts";
import type { Database } from "../db/connect.ts";
import type { Logger } from "../logger.ts";
import { createMcpServer } from "../mcp-server/server.ts";
import type { ToolResult } from "../task-service/client.ts";
import { createTaskRepository } from "../tasks/repository.ts";
import { exportAccount } from "./export.ts";
import { toTodoistCsv } from "./todoist.ts";

/**
 * `margin export --email E`: the same export as GET /api/export, for the operator or a user on the server. Tasks
 * are read through an MCP server in this process (the same tools and checks as over HTTP), so it needs no
 * running server; the embedded database's lock still keeps it from running beside `margin start`.
 */
export async function exportToFile(
  database: Database,
  logger: Logger,
  opts: { email: string; format: "json" | "csv"; out: string | undefined },
): Promise<void> {
  const account = await findUser(database.db, opts.email);
  const owner = { id: account.id, tz: account.timezone };
  const server = createMcpServer({
    repo: createTaskRepository(database.db),
    resolveOwner: () => owner,
    onFault: (err, tool) => logger.error({ err, tool }, "tool failed"),
  });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: "margin-export", version: "0.1.0" });
  await Promise.all([client.connect(clientSide), server.connect(serverSide)]);
  try {
    const tasks = {
      call: async (_user: unknown, name: string, args: Record<string, unknown>) =>
        (await client.callTool({ name, arguments: args }, CallToolResultSchema)) as ToolResult,
    };
    const user = { id: account.id, email: account.email, timezone: account.timezone };
    const data = await exportAccount(database.db, tasks, user);
    const text =
      opts.format === "csv" ? toTodoistCsv(data.tasks, user.timezone) : `${JSON.stringify(data, null, 2)}\n`;
    if (opts.out) await writeFile(opts.out, text, { mode: 0o600 });
    else process.stdout.write(text);
  } finally {
    await client.close();
    await server.close();
  }
}
