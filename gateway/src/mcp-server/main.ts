import { createServer, type Server } from "node:http";
import { sql } from "drizzle-orm";
import type { ConfigWith } from "../config.ts";
import type { Database } from "../db/connect.ts";
import type { Logger } from "../logger.ts";
import { createTaskRepository } from "../tasks/repository.ts";
import { createMcpHttpApp } from "./http.ts";

/** Runs the MCP server over HTTP on MCP_PORT; resolves once it listens. */
export async function startMcpHttp(
  config: ConfigWith<"MCP_TOKEN_SECRET">,
  database: Database,
  logger: Logger,
): Promise<Server> {
  const listener = createMcpHttpApp({
    repo: createTaskRepository(database.db),
    tokenSecret: config.mcpTokenSecret,
    mcpUrl: config.mcpUrl,
    authorizationServer: config.publicUrl,
    allowedHosts: config.mcpAllowedHosts,
    allowedOrigins: config.mcpAllowedOrigins,
    logger,
    checkDatabase: () => database.db.execute(sql`select 1`),
  });
  return new Promise((resolve, reject) => {
    const server = createServer(listener);
    server.once("error", reject);
    server.listen(config.mcpPort, config.host, () => {
      logger.info({ url: config.mcpUrl.href, port: config.mcpPort }, "MCP server listening");
      resolve(server);
    });
    server.keepAliveTimeout = 65_000;
  });
}
