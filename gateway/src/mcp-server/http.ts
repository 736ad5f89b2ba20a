import { InvalidTokenError } from "@modelcontextprotocol/sdk/server/auth/errors.js";
import { requireBearerAuth } from "@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js";
import type { OAuthTokenVerifier } from "@modelcontextprotocol/sdk/server/auth/provider.js";
import { getOAuthProtectedResourceMetadataUrl } from "@modelcontextprotocol/sdk/server/auth/router.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import express, { type ErrorRequestHandler, type RequestHandler } from "express";
import type { Logger } from "pino";
import type { TaskRepository } from "../tasks/repository.ts";
import { answerToolCall } from "./fast-call.ts";
import { hostAllowlist } from "./host-check.ts";
import { jsonBody } from "./json-body.ts";
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
export function createMcpHttpApp(opts: McpHttpOptions): express.Express {
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
  app.use(hostAllowlist(opts.allowedHosts, opts.mcpUrl));
  app.use(originAllowlist(opts.allowedOrigins));

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

  app.post(path, auth, jsonBody(opts.maxBodyBytes ?? 256 * 1024), async (req, res) => {
    // Plain tool calls are answered without a per-request server (same response; see fast-call.ts).
    if (opts.answerToolCallsDirectly !== false && (await answerToolCall(req, res, opts.repo, onFault)))
      return;
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
  return app;
}

function originAllowlist(allowed: string[]): RequestHandler {
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin === undefined || allowed.includes(origin)) return next();
    res.status(403).json(jsonRpcError(-32000, `Origin not allowed: ${origin}`));
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
