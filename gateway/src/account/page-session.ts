import { createHmac, timingSafeEqual } from "node:crypto";
import { isAPIError } from "better-auth/api";
import type { Request } from "express";
import type { Auth } from "../auth/auth.ts";
import { AuthUnavailableError, type CurrentSession, type CurrentUser } from "../auth/current-user.ts";
import { originsOf } from "../config.ts";
import { AccountActionError } from "./errors.ts";

// The account page is a browser page on the gateway's own origin, signed in with better-auth's session cookie
// (as the device page is). The cookie reaches only these page routes, never /api: a browser attaches it to any
// request for this origin, including ones another site makes it send. So every state-changing page request
// must prove it comes from the page: same Origin, and a CSRF token bound to the session.

export type PageSession = { user: CurrentUser; session: CurrentSession };

/** The cookie session of a page request, or null. Only the Cookie header is looked at. */
export async function cookieSession(auth: Auth, req: Request): Promise<PageSession | null> {
  const cookie = req.headers.cookie;
  if (!cookie) return null;
  let found: Awaited<ReturnType<Auth["api"]["getSession"]>>;
  try {
    found = await auth.api.getSession({ headers: new Headers({ cookie }) });
  } catch (err) {
    if (isAPIError(err) && err.statusCode < 500) return null;
    throw new AuthUnavailableError(err);
  }
  if (!found) return null;
  return {
    user: { id: found.user.id, email: found.user.email, timezone: found.user.timezone ?? "UTC" },
    session: { id: found.session.id, expiresAt: new Date(found.session.expiresAt) },
  };
}

/** The page's CSRF token: an HMAC of the session id, so it is worthless to anyone without that session. */
export async function csrfToken(auth: Auth, sessionId: string): Promise<string> {
  const { secret } = await auth.$context;
  return createHmac("sha256", secret).update(`margin-account-page:${sessionId}`).digest("base64url");
}

/**
 * Refuses a page request that another site could have made: its Origin must be the gateway's own (a browser
 * sends one with every POST; without it, Sec-Fetch-Site must say same-origin), and it must carry the session's
 * CSRF token (form field `csrf` or header X-CSRF-Token).
 */
export async function checkPageRequest(
  auth: Auth,
  req: Request,
  publicUrl: URL,
  session: PageSession,
  sent: unknown,
): Promise<void> {
  const origin = req.headers.origin;
  const sameOrigin =
    origin !== undefined
      ? originsOf(publicUrl.origin).includes(origin)
      : req.headers["sec-fetch-site"] === "same-origin";
  if (!sameOrigin) {
    throw new AccountActionError(
      403,
      "cross_site_request",
      "This request did not come from the account page.",
    );
  }
  const expected = Buffer.from(await csrfToken(auth, session.session.id));
  const given = Buffer.from(typeof sent === "string" ? sent : "");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new AccountActionError(
      403,
      "invalid_csrf_token",
      "The page is out of date. Reload it and try again.",
    );
  }
}
