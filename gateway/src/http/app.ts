import { randomUUID } from "node:crypto";
import cors from "cors";
import { sql } from "drizzle-orm";
import express, { type RequestHandler } from "express";
import { pinoHttp } from "pino-http";
import { IMPORT_PATHS, importTooLarge, MAX_IMPORT_BYTES } from "../account/import.ts";
import { createAccountRouter } from "../account/routes.ts";
import type { Auth } from "../auth/auth.ts";
import { requireSession } from "../auth/current-user.ts";
import { AUTH_BODY_LIMIT_BYTES, createAuthRouter } from "../auth/routes.ts";
import type { SessionCache } from "../auth/session-cache.ts";
import type { AuthThrottle } from "../auth/throttle.ts";
import type { TrustProxy } from "../config.ts";
import type { Database } from "../db/connect.ts";
import type { StreamLeases } from "../db/stream-leases.ts";
import { type Logger, serializeError, serializeRequest } from "../logger.ts";
import { createConnectionsRouter } from "../oauth/connections.ts";
import { createConsentRouter } from "../oauth/consent-routes.ts";
import {
  createOAuthMetadataRouter,
  isOAuthOpenPath,
  OAUTH_OPEN_PATHS,
  oauthOpenCors,
} from "../oauth/metadata.ts";
import type { ChangeFeed } from "../sync/change-feed.ts";
import { changesHandler } from "../sync/sse.ts";
import type { StreamRegistry } from "../sync/streams.ts";
import type { TaskServiceClient } from "../task-service/client.ts";
import { errorHandler, sendError } from "./errors.ts";
import { homePage } from "./home-page.ts";
import { allowedOrigins, hostAndOriginAllowlist } from "./host-origin.ts";
import { createMcpProxyRouter } from "./mcp-proxy.ts";
import type { Metrics } from "./metrics.ts";
import { createPanelPageRouter } from "./panel-page.ts";
import { streamLimit } from "./stream-limit.ts";
import { createTasksRouter } from "./tasks-routes.ts";
import type { WriteBudget } from "./write-budget.ts";

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
  writes: WriteBudget;
  throttle: AuthThrottle;
  /** Verified sessions kept briefly; without it every request asks better-auth. */
  sessions?: SessionCache;
  /** The same for /mcp's API keys. */
  apiKeys?: SessionCache;
  streams: StreamRegistry;
  /** The per-user stream slots every instance shares, and how many there are. */
  streamLeases: StreamLeases;
  trustProxy: TrustProxy;
  allowedHosts: string[];
  sseHeartbeatMs?: number;
  sseMaxBufferedBytes?: number;
  /** `POST /chatkit` (chatkit/router.ts); mounted after the JSON body parser. */
  chatkit?: RequestHandler;
  chatkitDomainKey?: string;
  panelDir?: string;
};

/** No route but the import (MAX_IMPORT_BYTES) takes more than this; each route's own parser sets a tighter limit. */
const MAX_BODY_BYTES = 1024 * 1024;

const REQUEST_ID = /^[\w.:-]{1,100}$/;

/** The gateway's HTTP surface: auth, REST, live changes, the MCP proxy and operations endpoints. */
export function createGatewayApp(deps: GatewayDeps): express.Express {
  const app = express();
  app.disable("x-powered-by");
  // req.ip is the socket's address unless TRUST_PROXY names the proxies whose X-Forwarded-For counts.
  app.set("trust proxy", deps.trustProxy);

  app.use(
    pinoHttp({
      logger: deps.logger,
      genReqId: (req, res) => {
        const incoming = req.headers["x-request-id"];
        const id = typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : randomUUID();
        res.setHeader("x-request-id", id);
        return id;
      },
      serializers: { req: serializeRequest, err: serializeError },
      autoLogging: { ignore: (req) => req.url === "/healthz" || req.url === "/metrics" },
      customLogLevel: (_req, res, err) =>
        err || res.statusCode >= 500 ? "error" : res.statusCode >= 400 ? "warn" : "info",
    }),
  );
  app.use(deps.metrics.observeRequests);
  app.use((req, res, next) => {
    const length = Number(req.headers["content-length"] ?? 0);
    const isImport = req.method === "POST" && IMPORT_PATHS.includes(req.path);
    // A declared length past the route's own limit is refused before the body is read, with that limit.
    const limit = isImport
      ? MAX_IMPORT_BYTES
      : req.path.startsWith("/api/auth/")
        ? AUTH_BODY_LIMIT_BYTES
        : MAX_BODY_BYTES;
    if (length <= limit) return next();
    res.set("Connection", "close");
    if (isImport) {
      const { status, code, message } = importTooLarge();
      return sendError(res, status, code, message);
    }
    sendError(res, 413, "payload_too_large", `The request body is larger than ${limit} bytes.`);
  });

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.get("/readyz", readiness(deps));
  app.get("/metrics", deps.metrics.handler);
  app.get("/", homePage);

  // DNS rebinding: only this gateway's Host names; browsers only from its own pages and the extension.
  const hostOrigin = {
    publicUrl: deps.publicUrl,
    extensionOrigins: deps.extensionOrigins,
    allowedHosts: deps.allowedHosts,
  };
  app.use(hostAndOriginAllowlist({ ...hostOrigin, anyOriginPath: isOAuthOpenPath }));
  app.use(OAUTH_OPEN_PATHS, oauthOpenCors);
  // Bearer tokens, so no cookies.
  const origins = allowedOrigins(hostOrigin);
  app.use(
    cors({
      origin: (origin, done) => done(null, origin === undefined || origins.has(origin)),
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
  app.use(createOAuthMetadataRouter(deps.auth));
  app.use(
    createConsentRouter({
      auth: deps.auth,
      db: deps.database.db,
      publicUrl: deps.publicUrl,
      throttle: deps.throttle,
    }),
  );
  app.use(
    createAuthRouter(deps.auth, {
      publicUrl: deps.publicUrl,
      throttle: deps.throttle,
      logger: deps.logger,
      sessions: deps.sessions,
      apiKeys: deps.apiKeys,
    }),
  );
  app.use(
    createMcpProxyRouter({
      auth: deps.auth,
      db: deps.database.db,
      mcpUrl: deps.mcpUrl,
      tokenSecret: deps.mcpTokenSecret,
      publicUrl: deps.publicUrl,
      writes: deps.writes,
      apiKeys: deps.apiKeys,
    }),
  );

  const signedIn = requireSession(deps.auth, { cache: deps.sessions });
  app.use(
    createAccountRouter({
      auth: deps.auth,
      signedIn,
      db: deps.database.db,
      tasks: deps.tasks,
      throttle: deps.throttle,
      publicUrl: deps.publicUrl,
      limitWrites: deps.writes.perRequest,
    }),
  );

  app.use(express.json({ limit: "64kb" }));
  app.use(["/api/tasks", "/api/changes", "/api/dates", "/api/oauth"], signedIn);
  app.get(
    "/api/changes",
    streamLimit(deps.streamLeases),
    changesHandler(deps.feed, {
      streams: deps.streams,
      heartbeatMs: deps.sseHeartbeatMs,
      maxBufferedBytes: deps.sseMaxBufferedBytes,
    }),
  );
  app.use(createTasksRouter(deps.tasks, { limitWrites: deps.writes.perRequest }));
  app.use(createConnectionsRouter(deps.database.db));
  if (deps.chatkit) app.use(deps.chatkit);

  app.use((_req, res) => sendError(res, 404, "not_found", "No such endpoint."));
  app.use(errorHandler(deps.logger));
  return app;
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
