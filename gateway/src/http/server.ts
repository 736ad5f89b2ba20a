import type { Server } from "node:http";
import { createAuth } from "../auth/auth.ts";
import type { Config } from "../config.ts";
import type { Database } from "../db/connect.ts";
import type { Logger } from "../logger.ts";
import { createChangeFeed } from "../sync/change-feed.ts";
import { createTaskServiceClient } from "../task-service/client.ts";
import { createGatewayApp } from "./app.ts";
import { createMetrics } from "./metrics.ts";

export type RunningGateway = { server: Server; close(): Promise<void> };

/** Starts the gateway on PORT; `close()` ends live streams cleanly, then stops the server. */
export async function startGateway(
  config: Config,
  database: Database,
  logger: Logger,
): Promise<RunningGateway> {
  const metrics = createMetrics();
  const feed = createChangeFeed(database, { logger });
  await feed.start();
  metrics.countStreamsWith(() => feed.subscriberCount());
  const tasks = createTaskServiceClient({
    mcpUrl: config.mcpUrl,
    tokenSecret: config.mcpTokenSecret,
    onCall: metrics.recordMcpCall,
  });
  const auth = createAuth(database.db, {
    baseURL: config.publicUrl.origin,
    secret: config.betterAuthSecret,
    trustedOrigins: [config.publicUrl.origin, ...config.extensionOrigins],
    logger: logger.child({ component: "auth" }),
  });
  const app = createGatewayApp({
    auth,
    database,
    tasks,
    feed,
    metrics,
    logger,
    publicUrl: config.publicUrl,
    mcpUrl: config.mcpUrl,
    mcpTokenSecret: config.mcpTokenSecret,
    extensionOrigins: config.extensionOrigins,
    writeRateLimitPerMinute: config.writeRateLimitPerMinute,
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, config.host, (err) => (err ? reject(err) : resolve(s)));
  });
  server.keepAliveTimeout = 65_000;
  logger.info({ url: config.publicUrl.href, port: config.port }, "gateway listening");
  return {
    server,
    async close() {
      const stopped = new Promise((resolve) => server.close(resolve));
      await feed.close(); // ends every SSE stream with a shutdown event
      server.closeIdleConnections();
      await stopped;
      await tasks.close();
    },
  };
}
