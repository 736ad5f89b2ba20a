import type { Server } from "node:http";
import type { ChatAgent } from "../agent/contract.ts";
import { type Auth, createAuth } from "../auth/auth.ts";
import { requireSession } from "../auth/current-user.ts";
import { createSessionCache } from "../auth/session-cache.ts";
import { createAuthChanges } from "../auth/session-events.ts";
import { createAuthThrottle, type ThrottleLimits } from "../auth/throttle.ts";
import { startRetentionSweep } from "../chatkit/retention.ts";
import { createChatKitRouter } from "../chatkit/router.ts";
import { type Config, originsOf } from "../config.ts";
import type { Database } from "../db/connect.ts";
import { createStreamLeases } from "../db/stream-leases.ts";
import type { Logger } from "../logger.ts";
import { ensureMcpResource } from "../oauth/resource.ts";
import { createChangeFeed } from "../sync/change-feed.ts";
import { createStreamRegistry } from "../sync/streams.ts";
import { createTaskServiceClient, type TaskServiceClient } from "../task-service/client.ts";
import { createGatewayApp } from "./app.ts";
import { createMetrics } from "./metrics.ts";
import { createWriteBudget } from "./write-budget.ts";

export type GatewayOptions = Pick<
  Config,
  | "publicUrl"
  | "mcpUrl"
  | "mcpTokenSecret"
  | "betterAuthSecret"
  | "extensionOrigins"
  | "writeRateLimitPerMinute"
  | "trustProxy"
  | "allowedHosts"
  | "chatTurnsPerMinute"
  | "chatRetentionDays"
> &
  Partial<Pick<Config, "chatkitDomainKey">> & {
    logger: Logger;
    sseHeartbeatMs?: number;
    sseMaxBufferedBytes?: number;
    /** Open change streams per user, across all instances; past it a new one gets 429 (default 20). */
    maxStreamsPerUser?: number;
    /** How long a stream slot held by an instance that died stays taken (db/stream-leases.ts; default 60 s). */
    streamLeaseMs?: number;
    /** Sign-in, sign-up and device-code limits (auth/throttle.ts defaults). */
    throttle?: Partial<ThrottleLimits>;
    mcpTimeoutMs?: number;
    /** How long a verified session is reused without a lookup (auth/session-cache.ts; default 5 s). */
    sessionCacheTtlMs?: number;
    /** The built ChatKit shell page (tests build their own). */
    panelDir?: string;
    /** The chat agent, or how to make it from the gateway's MCP client (the agent reaches tasks only there). */
    chatAgent?: ChatAgent | ((deps: { tasks: TaskServiceClient; logger: Logger }) => ChatAgent);
  };

export type Gateway = {
  app: ReturnType<typeof createGatewayApp>;
  auth: Auth;
  /** Ends every live stream (with a shutdown event) and the MCP client; the HTTP server is the caller's. */
  close(): Promise<void>;
};

/** Wires the gateway's parts (auth, change feed, MCP client, metrics) into its Express app. */
export async function createGateway(database: Database, opts: GatewayOptions): Promise<Gateway> {
  await ensureMcpResource(database.db, opts.publicUrl.origin);
  const metrics = createMetrics();
  const feed = createChangeFeed(database, { logger: opts.logger });
  await feed.start();
  const authChanges = createAuthChanges(database, { logger: opts.logger });
  await authChanges.start();
  const maxStreamsPerUser = opts.maxStreamsPerUser ?? 20;
  const streamLeases = createStreamLeases(database.db, {
    maxPerUser: maxStreamsPerUser,
    leaseMs: opts.streamLeaseMs ?? 60_000,
    logger: opts.logger,
    listen: database.listen,
    soleProcess: database.kind === "pglite",
  });
  // The shared leases close the user's oldest stream past the limit, on whichever instance it is; this
  // instance's own cap only acts if leases were lost, e.g. swept while it could not reach the database.
  const streams = createStreamRegistry(authChanges, { maxPerUser: maxStreamsPerUser, logger: opts.logger });
  const sessions = createSessionCache(authChanges, { ttlMs: opts.sessionCacheTtlMs });
  const apiKeys = createSessionCache(authChanges, { ttlMs: opts.sessionCacheTtlMs });
  metrics.countStreamsWith(() => feed.subscriberCount());
  const tasks = createTaskServiceClient({
    mcpUrl: opts.mcpUrl,
    tokenSecret: opts.mcpTokenSecret,
    timeoutMs: opts.mcpTimeoutMs,
    onCall: metrics.recordMcpCall,
  });
  const auth = createAuth(database.db, {
    baseURL: opts.publicUrl.origin,
    secret: opts.betterAuthSecret,
    trustedOrigins: [...originsOf(opts.publicUrl.origin), ...opts.extensionOrigins],
    logger: opts.logger.child({ component: "auth" }),
  });
  const chatAgent =
    typeof opts.chatAgent === "function" ? opts.chatAgent({ tasks, logger: opts.logger }) : opts.chatAgent;
  const chatkit = chatAgent
    ? createChatKitRouter({
        db: database.db,
        agent: chatAgent,
        tasks,
        logger: opts.logger,
        signedIn: requireSession(auth, { cache: sessions }),
        turnsPerMinute: opts.chatTurnsPerMinute,
      })
    : undefined;
  const writes = createWriteBudget(opts.writeRateLimitPerMinute, database.db);
  const retention = startRetentionSweep(database.db, opts.chatRetentionDays, opts.logger);
  const app = createGatewayApp({
    auth,
    database,
    tasks,
    feed,
    metrics,
    logger: opts.logger,
    publicUrl: opts.publicUrl,
    mcpUrl: opts.mcpUrl,
    mcpTokenSecret: opts.mcpTokenSecret,
    extensionOrigins: opts.extensionOrigins,
    writes,
    throttle: createAuthThrottle(opts.throttle, database.db),
    sessions,
    apiKeys,
    streams,
    streamLeases,
    trustProxy: opts.trustProxy,
    allowedHosts: opts.allowedHosts,
    sseHeartbeatMs: opts.sseHeartbeatMs,
    sseMaxBufferedBytes: opts.sseMaxBufferedBytes,
    chatkit: chatkit?.router,
    chatkitDomainKey: opts.chatkitDomainKey,
    panelDir: opts.panelDir,
  });
  return {
    app,
    auth,
    async close() {
      streams.close();
      sessions.close();
      apiKeys.close();
      await writes.close();
      retention.stop();
      chatkit?.close();
      await chatAgent?.close();
      await feed.close();
      await streamLeases.close();
      await authChanges.close();
      await tasks.close();
    },
  };
}

export type RunningGateway = { server: Server; close(): Promise<void> };

/** Starts the gateway on PORT; `close()` ends live streams cleanly, then stops the server. */
export async function startGateway(
  config: Config,
  database: Database,
  logger: Logger,
  extra: Pick<GatewayOptions, "chatAgent"> = {},
): Promise<RunningGateway> {
  const gateway = await createGateway(database, { ...config, logger, ...extra });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = gateway.app.listen(config.port, config.host, (err) => (err ? reject(err) : resolve(s)));
  });
  server.keepAliveTimeout = 65_000;
  logger.info({ url: config.publicUrl.href, port: config.port }, "gateway listening");
  return {
    server,
    async close() {
      const stopped = new Promise((resolve) => server.close(resolve));
      await gateway.close(); // ends every SSE stream, so the server can finish
      server.closeIdleConnections();
      await stopped;
    },
  };
}
