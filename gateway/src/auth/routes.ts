import { randomBytes } from "node:crypto";
import express, { type Response as ExpressResponse, type Request, Router } from "express";
import type { Logger } from "../logger.ts";
import { storable } from "../mcp-server/schemas.ts";
import { type Auth, CLIENT_IP_HEADER } from "./auth.ts";
import { AuthUnavailableError, bearerToken, resolveSession } from "./current-user.ts";
import { devicePageHeaders, renderDevicePage } from "./device-page.ts";
import type { SessionCache } from "./session-cache.ts";
import { type AuthThrottle, createAuthThrottle } from "./throttle.ts";

/** Auth requests are small JSON bodies; anything bigger is refused before better-auth reads it. */
export const AUTH_BODY_LIMIT_BYTES = 16 * 1024;

export type AuthRouterOptions = {
  /** Where better-auth believes requests arrive (its base URL's origin). */
  publicUrl: URL;
  throttle?: AuthThrottle;
  logger?: Logger;
  /** Forgotten for the caller's user after any change it makes (sign-out, revocation, new password, profile). */
  sessions?: SessionCache;
  /** /mcp's cached API keys: a key deleted or changed here is dropped before the answer goes out. */
  apiKeys?: SessionCache;
};

/**
 * better-auth under /api/auth and the device approval page at /device. Mount at the root, before any body
 * parser. The edge bounds the body, throttles sign-in, sign-up and device codes per address and account,
 * tells better-auth the client address it trusts, answers errors in the API's shape, and turns a "no
 * session" caused by a failing database into a 503.
 */
export function createAuthRouter(auth: Auth, opts: AuthRouterOptions): Router {
  const router = Router();
  const throttle = opts.throttle ?? createAuthThrottle();
  const origin = opts.publicUrl.origin;

  // Express 5 wildcard syntax; "/api/auth/*" throws at start-up (gateway-recipes A9).
  router.all(
    "/api/auth/{*any}",
    express.raw({ type: () => true, limit: AUTH_BODY_LIMIT_BYTES }),
    async (req, res) => {
      const ip = req.ip ?? req.socket.remoteAddress ?? "unknown";
      const body = Buffer.isBuffer(req.body) && req.body.length > 0 ? req.body : undefined;
      const path = req.path.replace(/^\/api\/auth/, "");
      const post = req.method === "POST";
      if (!storableRequest(req, body)) {
        // Postgres would refuse the query, and its failure reads as "sign-in unavailable, retry" (503), or
        // on sign-up as an error for a new email only. OAuth endpoints keep their RFC error shape.
        const message = "Remove the NUL character or broken Unicode (a lone surrogate) from the request.";
        res
          .status(400)
          .json(
            path.startsWith("/oauth2/")
              ? { error: "invalid_request", error_description: message }
              : { error: { code: "invalid_text", message } },
          );
        return;
      }

      const signInEmail = post && path === "/sign-in/email" ? emailOf(req, body) : undefined;
      const verdict =
        signInEmail !== undefined
          ? await throttle.beforeSignIn(ip, signInEmail)
          : post && path === "/sign-up/email"
            ? await throttle.takeSignUp(ip)
            : post && path === "/device/code"
              ? await throttle.takeDeviceCode(ip)
              : post && path === "/oauth2/register"
                ? await throttle.takeClientRegistration(ip)
                : null;
      if (verdict) {
        res
          .status(429)
          .set("Retry-After", String(verdict.retryAfterSeconds))
          .json({
            error: {
              code: "rate_limited",
              message: `Too many attempts. Try again in ${verdict.retryAfterSeconds} seconds.`,
            },
          });
        return;
      }

      const caller = bearerToken(req.headers);
      // This instance drops the caller's cached sessions before the change, not only when its NOTIFY returns.
      if (caller && req.method !== "GET") opts.sessions?.forgetUserOf(caller);
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (value === undefined || name === CLIENT_IP_HEADER) continue;
        for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
      }
      headers.set(CLIENT_IP_HEADER, ip);
      const response = await auth.handler(
        new Request(origin + req.originalUrl, {
          method: req.method,
          headers,
          body: body && req.method !== "GET" && req.method !== "HEAD" ? new Uint8Array(body) : undefined,
        }),
      );

      if (signInEmail !== undefined) {
        if (response.status === 401) await throttle.signInFailed(ip, signInEmail);
        else if (response.ok) await throttle.signInSucceeded(ip, signInEmail);
      }
      if (response.ok && post && (path === "/api-key/delete" || path === "/api-key/update")) {
        const keyId = keyIdOf(body);
        if (keyId) opts.apiKeys?.forget(keyId);
      }
      await send(res, await edgeResponse(auth, req, response, opts.logger));
    },
  );

  router.get("/device", (req, res) => {
    const code = typeof req.query.user_code === "string" ? req.query.user_code.slice(0, 64) : "";
    const nonce = randomBytes(16).toString("base64");
    res
      .set(devicePageHeaders(nonce))
      .type("html")
      .send(renderDevicePage({ nonce, userCode: code }));
  });
  return router;
}

/** The `keyId` of an API key deletion or update (JSON, as better-auth takes it). */
function keyIdOf(body: Buffer | undefined): string | undefined {
  try {
    const value = (JSON.parse(body?.toString("utf8") ?? "") as { keyId?: unknown }).keyId;
    return typeof value === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The sign-in's email as better-auth will read it, from a JSON or form body; "" when absent (throttled as one
 * shared key). Read as better-call does (media type in any case, the last of repeated form fields), or a
 * request could charge its failures to another account than the one it tries.
 */
function emailOf(req: Request, body: Buffer | undefined): string {
  if (!body) return "";
  const text = body.toString("utf8");
  try {
    const type = (req.get("content-type") ?? "").toLowerCase();
    const value = type.includes("application/x-www-form-urlencoded")
      ? new URLSearchParams(text).getAll("email").at(-1)
      : (JSON.parse(text) as { email?: unknown }).email;
    return typeof value === "string" ? value.slice(0, 320) : "";
  } catch {
    return "";
  }
}

/** Whether every string in the query and body (JSON or form, as better-auth reads them) is storable text. */
function storableRequest(req: Request, body: Buffer | undefined): boolean {
  const query = req.originalUrl.indexOf("?");
  const fields = query < 0 ? [] : [...new URLSearchParams(req.originalUrl.slice(query + 1))].flat();
  if (!fields.every(storable)) return false;
  if (!body) return true;
  const text = body.toString("utf8");
  if ((req.get("content-type") ?? "").toLowerCase().includes("application/x-www-form-urlencoded")) {
    return [...new URLSearchParams(text)].flat().every(storable);
  }
  let ok = storable(text);
  try {
    JSON.parse(text, (_key, value) => {
      if (typeof value === "string" && !storable(value)) ok = false;
      return value;
    });
  } catch {
    // not JSON: better-auth answers that itself
  }
  return ok;
}

type EdgeResponse = { status: number; headers: Headers; body: Buffer };

/**
 * better-auth answers errors as `{ message, code }`; the API's shape is `{ error: { code, message } }`.
 * OAuth endpoints (the device grant's `{ error, error_description }`) keep their RFC shape.
 */
async function edgeResponse(
  auth: Auth,
  req: Request,
  response: Response,
  logger?: Logger,
): Promise<EdgeResponse> {
  const headers = new Headers(response.headers);
  const body = Buffer.from(await response.arrayBuffer());
  const status = response.status;
  if (status >= 500) {
    // better-auth's 500s are its database failing (its own bugs too, logged); either way, retry later.
    (req.log ?? logger)?.error({ status }, "auth endpoint failed");
    return unavailable(headers, "Sign-in is unavailable for a moment; retry shortly.", 2);
  }
  if (status < 300 && req.path === "/api/auth/sign-out" && bearerToken(req.headers)) {
    // better-auth reports success even when it could not delete the session; the client would then drop
    // a token that still works. Only a session that is really gone is signed out.
    try {
      if (await resolveSession(auth, req.headers)) throw new AuthUnavailableError(new Error("not deleted"));
    } catch (err) {
      if (!(err instanceof AuthUnavailableError)) throw err;
      return unavailable(headers, "Sign-out could not finish; retry shortly.", err.retryAfterSeconds);
    }
  }
  if (status >= 400 && body.length === 0) {
    // better-auth answers an unknown or disabled endpoint with an empty 404.
    const message = status === 404 ? "No such endpoint." : "Request failed.";
    const shaped = Buffer.from(JSON.stringify({ error: { code: httpCode(status), message } }));
    headers.set("content-type", "application/json");
    headers.set("content-length", String(shaped.length));
    return { status, headers, body: shaped };
  }
  if (status < 400 || !(headers.get("content-type") ?? "").includes("application/json")) {
    return { status, headers, body };
  }
  let parsed: { message?: unknown; code?: unknown; error?: unknown } | null = null;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    // not JSON after all: pass it on
  }
  if (!parsed || typeof parsed !== "object") return { status, headers, body };
  if (req.path === "/api/auth/oauth2/token" && typeof parsed.error === "string") {
    return tokenEndpointError(status, headers, parsed as { error: string; error_description?: unknown });
  }
  if (parsed.error !== undefined) return { status, headers, body };

  const code = typeof parsed.code === "string" ? parsed.code.toLowerCase() : httpCode(status);
  const message = typeof parsed.message === "string" ? parsed.message : "Request failed.";
  if (status === 401 && code === "unauthorized" && bearerToken(req.headers)) {
    // better-auth reads a failed session lookup as "no session". Check again: a live session or a
    // store that can't answer means the 401 was the database's fault, not a sign-out.
    try {
      if (await resolveSession(auth, req.headers)) throw new AuthUnavailableError(new Error("spurious 401"));
    } catch (err) {
      if (!(err instanceof AuthUnavailableError)) throw err;
      return unavailable(headers, err.message, err.retryAfterSeconds);
    }
  }
  const shaped = Buffer.from(JSON.stringify({ error: { code, message } }));
  headers.set("content-length", String(shaped.length));
  return { status, headers, body: shaped };
}

/**
 * The token endpoint's errors as RFC 6749 §5.2 has them, where better-auth's OAuth provider differs: only a
 * failed client authentication is 401 (invalid_client), everything else 400; a verifier that does not match
 * the code's challenge, or one sent for a code that had none, is `invalid_grant` (RFC 7636 §4.6), and so is a
 * code whose account was deleted since (the provider's own `invalid_user` is no RFC code).
 */
function tokenEndpointError(
  status: number,
  headers: Headers,
  parsed: { error: string; error_description?: unknown },
): EdgeResponse {
  const description = typeof parsed.error_description === "string" ? parsed.error_description : undefined;
  let error = parsed.error;
  let errorDescription = description;
  if (status === 401 && error === "invalid_request" && !description?.startsWith("code_verifier required")) {
    error = "invalid_grant";
  } else if (error === "invalid_user") {
    error = "invalid_grant";
    errorDescription = "The account this code was issued for no longer exists.";
  }
  const fixedStatus = error === "invalid_client" ? status : status === 401 ? 400 : status;
  const body = Buffer.from(
    JSON.stringify({
      ...parsed,
      error,
      ...(errorDescription ? { error_description: errorDescription } : {}),
    }),
  );
  headers.set("content-length", String(body.length));
  return { status: fixedStatus, headers, body };
}

const httpCode = (status: number) =>
  ({ 400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 429: "rate_limited" })[
    status
  ] ?? "error";

function unavailable(headers: Headers, message: string, retryAfter: number): EdgeResponse {
  const body = Buffer.from(JSON.stringify({ error: { code: "auth_unavailable", message } }));
  headers.set("content-type", "application/json");
  headers.set("content-length", String(body.length));
  headers.set("retry-after", String(retryAfter));
  return { status: 503, headers, body };
}

async function send(res: ExpressResponse, edge: EdgeResponse) {
  for (const [name, value] of edge.headers) {
    if (name === "set-cookie") continue;
    res.setHeader(name, value);
  }
  const cookies = edge.headers.getSetCookie();
  if (cookies.length) res.setHeader("set-cookie", cookies);
  res.status(edge.status).end(edge.body);
}
