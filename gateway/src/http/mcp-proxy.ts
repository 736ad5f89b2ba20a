import express, { type RequestHandler, Router } from "express";
import type { Auth } from "../auth/auth.ts";
import {
  AuthUnavailableError,
  type CurrentUser,
  resolveApiKeyUser,
  sendAuthUnavailable,
} from "../auth/current-user.ts";
import type { SessionCache } from "../auth/session-cache.ts";
import type { Database } from "../db/connect.ts";
import { isOAuthAccessToken, MCP_SCOPE, resolveOAuthUser } from "../oauth/access-token.ts";
import { mcpResourceOf, OAUTH_SCOPES } from "../oauth/provider.ts";
import { TaskServiceError } from "../task-service/errors.ts";
import { createHttpPoster, type HttpAnswer } from "../task-service/http-post.ts";
import { createMcpTokens } from "../task-service/tokens.ts";
import { countToolWrites, sendWriteLimited, type WriteBudget } from "./write-budget.ts";

export type McpProxyOptions = {
  auth: Auth;
  db: Database["db"];
  mcpUrl: URL;
  tokenSecret: string;
  publicUrl: URL;
  /** The same per-user write budget REST spends; each write-tool call counts. */
  writes: WriteBudget;
  /** API keys verified moments ago; without it every call asks better-auth. */
  apiKeys?: SessionCache;
  maxBodyBytes?: number;
};

// Headers of the MCP exchange that pass through; everything else (cookies, the API key) stays here.
const FORWARDED_REQUEST_HEADERS = ["content-type", "accept", "mcp-protocol-version", "last-event-id"];
const FORWARDED_RESPONSE_HEADERS = ["content-type", "mcp-protocol-version"];

/**
 * `POST /mcp` for external MCP clients (Claude Desktop, Cursor, the Inspector) holding an OAuth access token
 * issued for `/mcp` (oauth/) or a personal API key. The credential is checked here and never forwarded: the
 * MCP server gets a freshly signed, short-lived user token. The user comes from the credential alone.
 */
export function createMcpProxyRouter(opts: McpProxyOptions): Router {
  const router = Router();
  const resource = mcpResourceOf(opts.publicUrl.href);
  const resourceMetadata = new URL("/.well-known/oauth-protected-resource/mcp", opts.publicUrl).href;
  const upstream = createHttpPoster(opts.mcpUrl);
  const tokens = createMcpTokens({ secret: opts.tokenSecret, audience: opts.mcpUrl, ttlSeconds: 120 });

  const authenticate: RequestHandler = async (req, res, next) => {
    const header = req.get("authorization") ?? "";
    const bearer = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    const key = bearer ?? req.get("x-api-key");
    let user: CurrentUser | null = null;
    try {
      if (bearer && isOAuthAccessToken(bearer)) {
        const caller = await resolveOAuthUser(opts.db, bearer, resource);
        if (caller && !caller.scopes.includes(MCP_SCOPE)) {
          // RFC 6750 §3.1: the token is fine but not for this; the client can ask the user for more.
          res
            .status(403)
            .set(
              "WWW-Authenticate",
              `Bearer error="insufficient_scope", scope="${MCP_SCOPE}", resource_metadata="${resourceMetadata}"`,
            )
            .json({
              error: { code: "insufficient_scope", message: `This token lacks the '${MCP_SCOPE}' scope.` },
            });
          return;
        }
        user = caller?.user ?? null;
      } else if (key) user = await resolveApiKeyUser(opts.auth, key, opts.apiKeys);
    } catch (err) {
      return sendAuthUnavailable(
        res,
        err instanceof AuthUnavailableError ? err : new AuthUnavailableError(err),
      );
    }
    if (!user) {
      // RFC 6750 §3 + RFC 9728 §5.1: a client without a credential starts OAuth discovery from here.
      const challenge = key
        ? `Bearer error="invalid_token", error_description="Unknown, expired or revoked token", resource_metadata="${resourceMetadata}"`
        : `Bearer resource_metadata="${resourceMetadata}", scope="${OAUTH_SCOPES.join(" ")}"`;
      res
        .status(401)
        .set("WWW-Authenticate", challenge)
        .json({
          error: {
            code: "unauthorized",
            message:
              "Connect with OAuth (see the WWW-Authenticate header), or send a personal API key as 'Authorization: Bearer <key>'.",
          },
        });
      return;
    }
    res.locals.user = user;
    next();
  };

  // RFC 9728: /mcp is protected by this gateway's own authorization server (its issuer is /api/auth).
  router.get("/.well-known/oauth-protected-resource/mcp", (_req, res) => {
    res.set("Cache-Control", "public, max-age=300").json({
      resource,
      authorization_servers: [new URL("/api/auth", opts.publicUrl).href],
      scopes_supported: [...OAUTH_SCOPES],
      bearer_methods_supported: ["header"],
      resource_name: "Margin tasks",
    });
  });

  router.post(
    "/mcp",
    authenticate,
    express.raw({ type: () => true, limit: opts.maxBodyBytes ?? 256 * 1024 }),
    async (req, res) => {
      const user = res.locals.user as { id: string; timezone: string };
      const body = Buffer.isBuffer(req.body) && req.body.length > 0 ? req.body : undefined;
      const message = parseJson(body);
      // What can't be counted is not forwarded: the MCP server would read some of it (another charset).
      if (body && message === undefined) {
        res.status(400).json({
          jsonrpc: "2.0",
          error: { code: -32700, message: "Parse error: send a JSON-RPC message or batch as UTF-8 JSON." },
          id: null,
        });
        return;
      }
      const verdict = await opts.writes.take(user.id, countToolWrites(message));
      if (verdict) return sendWriteLimited(res, verdict.retryAfterSeconds);
      const headers: Record<string, string> = { authorization: `Bearer ${await tokens.tokenFor(user)}` };
      for (const name of FORWARDED_REQUEST_HEADERS) {
        const value = req.get(name);
        if (value) headers[name] = value;
      }
      let answer: HttpAnswer;
      try {
        answer = await upstream.post(headers, body, 30_000);
      } catch (err) {
        throw TaskServiceError.from(err);
      }
      if (answer.status === 401) {
        throw new TaskServiceError(
          "The task service refused the gateway's token; check MCP_TOKEN_SECRET and MCP_URL.",
          false,
        );
      }
      res.status(answer.status);
      for (const name of FORWARDED_RESPONSE_HEADERS) {
        const value = answer.headers[name];
        if (typeof value === "string") res.set(name, value);
      }
      res.send(answer.body);
    },
  );

  const notAllowed: RequestHandler = (_req, res) => {
    res
      .status(405)
      .set("Allow", "POST")
      .json({ jsonrpc: "2.0", error: { code: -32000, message: "Method not allowed." }, id: null });
  };
  router.get("/mcp", authenticate, notAllowed);
  router.delete("/mcp", authenticate, notAllowed);
  return router;
}

/** The JSON-RPC message read as the MCP server reads it (UTF-8, a byte-order mark dropped), or undefined. */
function parseJson(body: Buffer | undefined): unknown {
  if (!body) return undefined;
  try {
    return JSON.parse(body.toString("utf8").replace(/^\uFEFF/, ""));
  } catch {
    return undefined;
  }
}
