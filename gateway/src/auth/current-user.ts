import type { IncomingHttpHeaders } from "node:http";
import { defaultKeyHasher } from "@better-auth/api-key";
import { isAPIError } from "better-auth/api";
import type { RequestHandler, Response } from "express";
import type { Auth } from "./auth.ts";
import type { SessionCache } from "./session-cache.ts";

/** The signed-in user as every route and tool sees it. */
export type CurrentUser = { id: string; email: string; timezone: string };

/** The session behind a bearer token: which one (streams close when it is revoked) and until when. */
export type CurrentSession = { id: string; expiresAt: Date };

/**
 * The session store could not answer (database down or failing). Not the client's fault and not a sign-out:
 * answer 503 with Retry-After so clients keep their token and retry.
 */
export class AuthUnavailableError extends Error {
  override name = "AuthUnavailableError";
  readonly retryAfterSeconds = 2;
  constructor(cause: unknown) {
    super("Sign-in checks are unavailable for a moment; retry shortly.", { cause });
  }
}

/** API keys carry this prefix; telling them apart lets /api say where a key belongs. */
export const API_KEY_PREFIX = "mgn_";

type StoredUser = { id: string; email: string; timezone?: string | null };

const toCurrentUser = (u: StoredUser): CurrentUser => ({
  id: u.id,
  email: u.email,
  timezone: u.timezone ?? "UTC",
});

export function bearerToken(headers: Headers | IncomingHttpHeaders): string | undefined {
  const value = headers instanceof Headers ? headers.get("authorization") : headers.authorization;
  const match = value?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}

/**
 * The user and session behind `Authorization: Bearer <signed session token>` (sign-in or device-flow token),
 * or null when there is no such live session. Throws AuthUnavailableError when the store can't tell.
 * Only that header is passed on: the session cookie the device page sets must never authorise API calls.
 */
export async function resolveSession(
  auth: Auth,
  headers: Headers | IncomingHttpHeaders,
): Promise<{ user: CurrentUser; session: CurrentSession } | null> {
  const token = bearerToken(headers);
  if (!token) return null;
  let found: Awaited<ReturnType<Auth["api"]["getSession"]>>;
  try {
    found = await auth.api.getSession({ headers: new Headers({ authorization: `Bearer ${token}` }) });
  } catch (err) {
    // A 4xx is better-auth rejecting the credential (gateway-recipes A6); a 5xx is its store failing.
    if (isAPIError(err) && err.statusCode < 500) return null;
    throw new AuthUnavailableError(err);
  }
  if (!found) return null;
  return {
    user: toCurrentUser(found.user),
    session: { id: found.session.id, expiresAt: new Date(found.session.expiresAt) },
  };
}

/** The user behind a bearer token, or null; see `resolveSession`. */
export async function resolveSessionUser(
  auth: Auth,
  headers: Headers | IncomingHttpHeaders,
): Promise<CurrentUser | null> {
  return (await resolveSession(auth, headers))?.user ?? null;
}

type StoredKey = { id: string; enabled?: boolean | null; expiresAt?: Date | null };

/**
 * The owner of a personal API key and the key (as a session: its id, and its expiry or none), or null for an
 * unknown, revoked, disabled or expired key; `usesCounted` when the key has a number of uses left, which every
 * use must spend. Throws AuthUnavailableError when the key store can't tell (the plugin reports any failure as
 * "invalid").
 */
export async function resolveApiKey(
  auth: Auth,
  key: string,
): Promise<{ user: CurrentUser; session: CurrentSession; usesCounted: boolean } | null> {
  if (!key) return null;
  const ctx = await auth.$context;
  try {
    const result = await auth.api.verifyApiKey({ body: { key } });
    if (result.valid && result.key) {
      // referenceId is the owning user's id (gateway-recipes A7).
      const user = await ctx.internalAdapter.findUserById(result.key.referenceId);
      if (!user) return null;
      const expiresAt = result.key.expiresAt ? new Date(result.key.expiresAt) : NEVER;
      return {
        user: toCurrentUser(user),
        session: { id: result.key.id, expiresAt },
        usesCounted: result.key.remaining !== null && result.key.remaining !== undefined,
      };
    }
    // verifyApiKey answers "invalid" for a database failure too: look the key up to tell the two apart.
    const stored = await ctx.adapter.findOne<StoredKey>({
      model: "apikey",
      where: [{ field: "key", value: await defaultKeyHasher(key) }],
    });
    const usable =
      stored && stored.enabled !== false && (!stored.expiresAt || new Date(stored.expiresAt) > new Date());
    if (usable) throw new Error("API key verification failed for a usable key");
    return null;
  } catch (err) {
    if (isAPIError(err) && err.statusCode < 500) return null;
    throw err instanceof AuthUnavailableError ? err : new AuthUnavailableError(err);
  }
}

const NEVER = new Date(8.64e15);

/**
 * The owner of an API key, from `cache` when it was verified moments ago (a key's check costs several queries
 * and a write of its last use, so that is recorded once per cache lifetime at most).
 */
export async function resolveApiKeyUser(
  auth: Auth,
  key: string,
  cache?: SessionCache,
): Promise<CurrentUser | null> {
  const cached = cache?.get(key);
  if (cached) return cached.user;
  const epoch = cache?.epoch() ?? 0;
  const found = await resolveApiKey(auth, key);
  if (found && cache && !found.usesCounted)
    cache.set(key, { user: found.user, session: found.session }, epoch);
  return found?.user ?? null;
}

/** Answers 503 + Retry-After in the API's error shape. */
export function sendAuthUnavailable(res: Response, err: AuthUnavailableError) {
  res
    .status(503)
    .set("Retry-After", String(err.retryAfterSeconds))
    .json({ error: { code: "auth_unavailable", message: err.message } });
}

/**
 * Express middleware: puts the bearer's user in `res.locals.user` (and its session in `res.locals.session`),
 * or answers 401 JSON when there is no such session, or 503 when the session store can't tell. With a
 * `cache`, a session verified moments ago is taken from it (auth/session-cache.ts says how it stays true).
 */
export function requireSession(auth: Auth, opts: { cache?: SessionCache } = {}): RequestHandler {
  const { cache } = opts;
  return async (req, res, next) => {
    let found: Awaited<ReturnType<typeof resolveSession>> | undefined;
    const token = cache && bearerToken(req.headers);
    try {
      found = token ? cache.get(token) : undefined;
      if (!found) {
        const epoch = cache?.epoch() ?? 0;
        found = await resolveSession(auth, req.headers);
        if (found && token) cache.set(token, found, epoch);
      }
    } catch (err) {
      if (err instanceof AuthUnavailableError) return sendAuthUnavailable(res, err);
      throw err;
    }
    if (found) {
      res.locals.user = found.user;
      res.locals.session = found.session;
      return next();
    }
    const given = bearerToken(req.headers);
    if (given?.startsWith(API_KEY_PREFIX) || req.headers["x-api-key"] !== undefined) {
      res
        .status(401)
        .set("WWW-Authenticate", 'Bearer realm="margin", error="invalid_token"')
        .json({
          error: {
            code: "api_key_not_accepted",
            message:
              "API keys are for MCP clients at /mcp. This API takes the session token from sign-in (the set-auth-token header).",
          },
        });
      return;
    }
    // RFC 6750 §3: say whether the token was missing or bad, so clients know to sign in again.
    res
      .status(401)
      .set(
        "WWW-Authenticate",
        given !== undefined ? 'Bearer realm="margin", error="invalid_token"' : 'Bearer realm="margin"',
      )
      .json({
        error: {
          code: "unauthorized",
          message:
            given !== undefined
              ? "The bearer token is invalid, expired or signed out. Sign in again."
              : "Sign in first: send Authorization: Bearer <session token>.",
        },
      });
  };
}

/** The user `requireSession` put on the response; throws if the route was mounted without it. */
export function currentUser(res: Response): CurrentUser {
  const user = res.locals.user as CurrentUser | undefined;
  if (!user) throw new Error("currentUser() called on a route without requireSession()");
  return user;
}

/** The session `requireSession` put on the response. */
export function currentSession(res: Response): CurrentSession {
  const session = res.locals.session as CurrentSession | undefined;
  if (!session) throw new Error("currentSession() called on a route without requireSession()");
  return session;
}
