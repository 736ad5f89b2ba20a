import { randomUUID } from "node:crypto";
import cors from "cors";
import { sql } from "drizzle-orm";
import express, { type RequestHandler } from "express";
import { rateLimit } from "express-rate-limit";
import { pinoHttp } from "pino-http";
import type { Auth } from "../auth/auth.ts";
import { requireSession } from "../auth/current-user.ts";
import { createAuthRouter } from "../auth/routes.ts";
import type { Database } from "../db/connect.ts";
import type { Logger } from "../logger.ts";
import type { ChangeFeed } from "../sync/change-feed.ts";
import { changesHandler } from "../sync/sse.ts";
import type { TaskServiceClient } from "../task-service/client.ts";
import { errorHandler, sendError } from "./errors.ts";
import { homePage } from "./home-page.ts";
import { createMcpProxyRouter } from "./mcp-proxy.ts";
import type { Metrics } from "./metrics.ts";
import { createPanelPageRouter } from "./panel-page.ts";
import { createTasksRouter } from "./tasks-routes.ts";

export type GatewayDeps = {
  auth: Auth;
  database: Database;
  tasks: TaskServiceClient;
  feed: ChangeFeed;
  metrics: Metrics;
  logger: Logger;
  publicUrl: URL;
  mcpUrl: URL;
  mcpTokenSecret: string;
  extensionOrigins: string[];
  writeRateLimitPerMinute: number;
  sseHeartbeatMs?: number;
  /** `POST /chatkit` (chatkit/router.ts); mounted after the JSON body parser. */
  chatkit?: RequestHandler;
  chatkitDomainKey?: string;
  panelDir?: string;
};

const REQUEST_ID = /^[\w.:-]{1,100}$/;

/** The gateway's HTTP surface: auth, REST, live changes, the MCP proxy and operations endpoints. */
export function createGatewayApp(deps: GatewayDeps): express.Express {
  const app = express();
  app.disable("x-powered-by");

  app.use(
    pinoHttp({
      logger: deps.logger,
      genReqId: (req, res) => {
        const incoming = req.headers["x-request-id"];
        const id = typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : randomUUID();
        res.setHeader("x-request-id", id);
        return id;
      },
      autoLogging: { ignore: (req) => req.url === "/healthz" || req.url === "/metrics" },
      customLogLevel: (_req, res, err) =>
        err || res.statusCode >= 500 ? "error" : res.statusCode >= 400 ? "warn" : "info",
    }),
  );
  app.use(deps.metrics.observeRequests);

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.get("/readyz", readiness(deps));
  app.get("/metrics", deps.metrics.handler);
  app.get("/", homePage);

  // Browsers may call only from the extension and the gateway's own pages; bearer tokens, so no cookies.
  const allowedOrigins = new Set([deps.publicUrl.origin, ...deps.extensionOrigins]);
  app.use(
    cors({
      origin: (origin, done) => done(null, origin === undefined || allowedOrigins.has(origin)),
      exposedHeaders: ["set-auth-token", "x-request-id", "idempotent-replayed", "retry-after"],
      maxAge: 600,
    }),
  );

  app.use(
    createPanelPageRouter({
      publicUrl: deps.publicUrl,
      extensionOrigins: deps.extensionOrigins,
      chatkitDomainKey: deps.chatkitDomainKey,
      dir: deps.panelDir,
    }),
  );
  app.use(createAuthRouter(deps.auth));
  app.use(
    createMcpProxyRouter({
      auth: deps.auth,
      mcpUrl: deps.mcpUrl,
      tokenSecret: deps.mcpTokenSecret,
      publicUrl: deps.publicUrl,
    }),
  );

  app.use(express.json({ limit: "64kb" }));
  const signedIn = requireSession(deps.auth);
  app.use(["/api/tasks", "/api/changes", "/api/dates"], signedIn);
  app.get("/api/changes", changesHandler(deps.feed, { heartbeatMs: deps.sseHeartbeatMs }));
  app.use(createTasksRouter(deps.tasks, { limitWrites: writeLimit(deps.writeRateLimitPerMinute) }));
  if (deps.chatkit) app.use(deps.chatkit);

  app.use((_req, res) => sendError(res, 404, "not_found", "No such endpoint."));
  app.use(errorHandler(deps.logger));
  return app;
}

/** Per-user limit on task writes; reads and live streams are not limited. */
function writeLimit(perMinute: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: "draft-8",
    legacyHeaders: false,
    keyGenerator: (_req, res) => `user:${(res.locals.user as { id: string }).id}`,
    handler: (_req, res) =>
      sendError(res, 429, "rate_limited", "Too many changes in a minute. Wait a moment and retry."),
  });
}

function readiness(deps: GatewayDeps): RequestHandler {
  const metadataUrl = new URL("/.well-known/oauth-protected-resource/mcp", deps.mcpUrl);
  return async (_req, res) => {
    const [database, mcp] = await Promise.all([
      deps.database.db.execute(sql`select 1`).then(
        () => "ok",
        () => "unreachable",
      ),
      fetch(metadataUrl, { signal: AbortSignal.timeout(2000) }).then(
        (r) => (r.ok ? "ok" : `status ${r.status}`),
        () => "unreachable",
      ),
    ]);
    const ready = database === "ok" && mcp === "ok";
    res
      .status(ready ? 200 : 503)
      .json({ status: ready ? "ready" : "not_ready", checks: { database, mcp_server: mcp } });
  };
}
