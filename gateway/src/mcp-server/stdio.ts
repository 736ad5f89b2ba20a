import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { Logger } from "pino";
import type { TaskOwner, TaskRepository } from "../tasks/repository.ts";
import { createMcpServer } from "./server.ts";

/**
 * The same tools over stdio for one local user (named in the environment): stdio has no HTTP auth, so the
 * process's operator is the user (MCP spec: stdio servers take credentials from the environment).
 */
export async function serveStdio(
  repo: TaskRepository,
  owner: TaskOwner,
  logger: Logger,
): Promise<() => Promise<void>> {
  const server = createMcpServer({
    repo,
    resolveOwner: () => owner,
    onFault: (err, tool) => logger.error({ err, tool }, "tool failed"),
  });
  const transport = new StdioServerTransport();
  await server.connect(transport);
  return () => server.close();
}
