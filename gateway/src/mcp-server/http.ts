import type { IncomingMessage, ServerResponse } from "node:http";
import { InvalidTokenError } from "@modelcontextprotocol/sdk/server/auth/errors.js";
import { requireBearerAuth } from "@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js";
import type { OAuthTokenVerifier } from "@modelcontextprotocol/sdk/server/auth/provider.js";
import { getOAuthProtectedResourceMetadataUrl } from "@modelcontextprotocol/sdk/server/auth/router.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import express, { type ErrorRequestHandler, type RequestHandler } from "express";
import type { Logger } from "pino";
import { originsOf } from "../config.ts";
import type { TaskRepository } from "../tasks/repository.ts";
import { answerToolCall } from "./fast-call.ts";
import { hostAllowlist, hostMatcher } from "./host-check.ts";
import { isPlainJsonBody, jsonBody, readJsonBody, rememberBody } from "./json-body.ts";
import { createMcpServer, ownerFromAuthInfo } from "./server.ts";
import { verifyMcpToken } from "./token.ts";

export type McpHttpOptions = {
  repo: TaskRepository;
  tokenSecret: string;
  /** Public URL of the endpoint; tokens must name it as their audience. */
  mcpUrl: URL;
  /** Where clients get tokens (RFC 9728 `authorization_servers`): the gateway. */
  authorizationServer: URL;
  allowedHosts: string[];
  allowedOrigins: string[];
  logger: Logger;
  maxBodyBytes?: number;
  /** Throws when the database cannot be reached (GET /readyz answers 503 then). */
  checkDatabase?: () => Promise<unknown>;
  /** Plain tool calls skip the per-request SDK server (see fast-call.ts); false hands every request to the SDK. */
  answerToolCallsDirectly?: boolean;
};

const jsonRpcError = (code: number, message: string) => ({
  jsonrpc: "2.0",
  error: { code, message },
  id: null,
});

/**
 * The MCP server over Streamable HTTP, stateless: a fresh server and transport per request, so any number of
 * instances serve any client without sessions.
 */
export function createMcpHttpApp(opts: McpHttpOptions): McpRequestListener {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", false);
  const path = opts.mcpUrl.pathname;
  const metadataPath = new URL(getOAuthProtectedResourceMetadataUrl(opts.mcpUrl)).pathname;

  // Probes (Docker, Kubernetes) reach the pod by address, so these answer before the Host check; they tell nothing.
  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.get("/readyz", async (_req, res) => {
    const database = await (opts.checkDatabase?.() ?? Promise.resolve()).then(
      () => "ok",
      () => "unreachable",
    );
    const ready = database === "ok";
    res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "not_ready", checks: { database } });
  });

  // DNS-rebinding defence: only known Host names, and browser Origins only when allowed.
  const hostAllowed = hostMatcher(opts.allowedHosts, opts.mcpUrl);
  // http://localhost:<port> and http://127.0.0.1:<port> are one origin, as they are one Host.
  const origins = new Set(opts.allowedOrigins.flatMap(originsOf));
  const originAllowed = (req: IncomingMessage) =>
    req.headers.origin === undefined || origins.has(req.headers.origin);
  app.use(hostAllowlist(opts.allowedHosts, opts.mcpUrl));
  app.use(originAllowlist(originAllowed));

  app.get(metadataPath, (_req, res) => {
    res.json({
      resource: opts.mcpUrl.href,
      authorization_servers: [opts.authorizationServer.href],
      bearer_methods_supported: ["header"],
      resource_name: "Margin tasks",
    });
  });

  const verifier: OAuthTokenVerifier = {
    async verifyAccessToken(token) {
      try {
        const subject = await verifyMcpToken(opts.tokenSecret, token, opts.mcpUrl);
        return {
          token,
          clientId: "margin",
          scopes: [],
          expiresAt: subject.expiresAt,
          resource: opts.mcpUrl,
          extra: { userId: subject.userId, tz: subject.tz },
        };
      } catch (err) {
        // Anything but an OAuth error would become a 500; a bad token is always a 401.
        throw new InvalidTokenError(err instanceof Error ? err.message : "Token is invalid");
      }
    },
  };
  const auth = requireBearerAuth({
    verifier,
    expectedResource: opts.mcpUrl,
    resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(opts.mcpUrl),
  });
  const onFault = (err: unknown, tool: string) => opts.logger.error({ err, tool }, "tool failed");

  const bodyLimit = opts.maxBodyBytes ?? 256 * 1024;
  const direct = opts.answerToolCallsDirectly !== false;
  app.post(path, auth, jsonBody(bodyLimit), async (req, res) => {
    const before = triedBeforeExpress.get(req);
    if (before instanceof Error) throw before;
    // Plain tool calls are answered without a per-request server (same response; see fast-call.ts).
    if (direct && !before && (await answerToolCall(req, res, opts.repo, onFault))) return;
    const server = createMcpServer({ repo: opts.repo, resolveOwner: ownerFromAuthInfo, onFault });
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  const notAllowed: RequestHandler = (_req, res) => {
    res
      .status(405)
      .set("Allow", "POST")
      .json(jsonRpcError(-32000, "Method not allowed: this server is stateless, use POST."));
  };
  app.all(path, notAllowed);
  // Anything else is JSON too, never Express's HTML page.
  app.use((req, res) => {
    res
      .status(404)
      .json(
        jsonRpcError(
          -32000,
          `Not found: ${req.method} ${req.path.slice(0, 100)}. The MCP endpoint is POST ${path}.`,
        ),
      );
  });
  app.use(mcpErrorHandler(opts.logger));

  if (!direct) return app;
  /**
   * A plain tool call, the request an MCP client sends on every call, is answered before Express: its router,
   * request/response setup (prototype swaps) and middleware chain cost about 0.15 ms of CPU a call, and the
   * route does nothing for it that isn't done here in the same order: the Host and Origin checks, the bearer
   * token (the success path of the SDK's `requireBearerAuth`; the verifier always names this resource), a
   * plain JSON body, then `answerToolCall`. Anything else goes to Express before its body is read, so the
   * middleware answers it as always (a refusal, another body); a request this path read and could not answer
   * goes on to the route with its body, or its error, for the route to handle.
   */
  return (req, res) => {
    const toExpress = () => app(req, res);
    if (
      req.method !== "POST" ||
      req.url !== path ||
      !hostAllowed(req) ||
      !originAllowed(req) ||
      !isPlainJsonBody(req.headers, bodyLimit)
    )
      return toExpress();
    const header = req.headers.authorization;
    const [type, token] = header?.split(" ") ?? [];
    if (type?.toLowerCase() !== "bearer" || !token) return toExpress();
    verifier.verifyAccessToken(token).then(
      (authInfo) => {
        const { expiresAt } = authInfo;
        // requireBearerAuth's own checks on a verified token.
        if (typeof expiresAt !== "number" || Number.isNaN(expiresAt) || expiresAt < Date.now() / 1000)
          return toExpress();
        readJsonBody(req, (read) => {
          rememberBody(req, read);
          if ("error" in read) return toExpress();
          const request = Object.assign(req, { auth: authInfo, body: read.body });
          answerToolCall(request, res, opts.repo, onFault).then(
            (answered) => {
              if (answered) return;
              triedBeforeExpress.set(req, true);
              toExpress();
            },
            (err: Error) => {
              triedBeforeExpress.set(req, err);
              toExpress();
            },
          );
        });
      },
      () => toExpress(),
    );
  };
}

/** What `createMcpHttpApp` returns: a listener for a node:http server's requests. */
export type McpRequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** Requests `answerToolCall` was tried on before Express: it declined them (true), or it failed (the error). */
const triedBeforeExpress = new WeakMap<IncomingMessage, true | Error>();

function originAllowlist(allowed: (req: IncomingMessage) => boolean): RequestHandler {
  return (req, res, next) => {
    if (allowed(req)) return next();
    res.status(403).json(jsonRpcError(-32000, `Origin not allowed: ${req.headers.origin}`));
  };
}

/** Body-parser and other request errors answer as JSON-RPC errors with a 4xx, never a crash or an HTML page. */
function mcpErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    const status = typeof err?.status === "number" ? err.status : 500;
    if (status === 413) return void res.status(413).json(jsonRpcError(-32600, "Request body too large"));
    if (err?.type === "entity.parse.failed")
      return void res.status(400).json(jsonRpcError(-32700, "Parse error: invalid JSON"));
    if (status < 500) return void res.status(status).json(jsonRpcError(-32600, err.message ?? "Bad request"));
    logger.error({ err }, "MCP request failed");
    if (!res.headersSent) res.status(500).json(jsonRpcError(-32603, "Internal error"));
  };
}
