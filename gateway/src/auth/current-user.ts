import type { IncomingHttpHeaders } from "node:http";
import { isAPIError } from "better-auth/api";
import type { RequestHandler, Response } from "express";
import type { Auth } from "./auth.ts";

/** The signed-in user as every route and tool sees it. */
export type CurrentUser = { id: string; email: string; timezone: string };

type StoredUser = { id: string; email: string; timezone?: string | null };

const toCurrentUser = (u: StoredUser): CurrentUser => ({
  id: u.id,
  email: u.email,
  timezone: u.timezone ?? "UTC",
});

function bearerToken(headers: Headers | IncomingHttpHeaders): string | undefined {
  const value = headers instanceof Headers ? headers.get("authorization") : headers.authorization;
  const match = value?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}

/**
 * The user behind `Authorization: Bearer <session token>` (sign-in or device-flow token), or null.
 * Only that header is passed on: the session cookie the device page sets must never authorise API calls.
 */
export async function resolveSessionUser(
  auth: Auth,
  headers: Headers | IncomingHttpHeaders,
): Promise<CurrentUser | null> {
  const token = bearerToken(headers);
  if (!token) return null;
  try {
    const session = await auth.api.getSession({ headers: new Headers({ authorization: `Bearer ${token}` }) });
    return session ? toCurrentUser(session.user) : null;
  } catch (err) {
    // better-auth rejects some bad credentials by throwing (gateway-recipes A6); that is a 401, not a 500.
    if (isAPIError(err)) return null;
    throw err;
  }
}

/** The owner of a personal API key, or null for an unknown, revoked, disabled or expired key. */
export async function resolveApiKeyUser(auth: Auth, key: string): Promise<CurrentUser | null> {
  if (!key) return null;
  const result = await auth.api.verifyApiKey({ body: { key } }).catch((err: unknown) => {
    if (isAPIError(err)) return null;
    throw err;
  });
  if (!result?.valid || !result.key) return null;
  // referenceId is the owning user's id (gateway-recipes A7).
  const ctx = await auth.$context;
  const user = await ctx.internalAdapter.findUserById(result.key.referenceId);
  return user ? toCurrentUser(user) : null;
}

/** Express middleware: puts the bearer's user in `res.locals.user`, or answers 401 JSON. */
export function requireSession(auth: Auth): RequestHandler {
  return async (req, res, next) => {
    const user = await resolveSessionUser(auth, req.headers);
    if (user) {
      res.locals.user = user;
      return next();
    }
    const sent = bearerToken(req.headers) !== undefined;
    // RFC 6750 §3: say whether the token was missing or bad, so clients know to sign in again.
    res
      .status(401)
      .set(
        "WWW-Authenticate",
        sent ? 'Bearer realm="margin", error="invalid_token"' : 'Bearer realm="margin"',
      )
      .json({
        error: {
          code: "unauthorized",
          message: sent
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
