import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { constantTimeEqual, makeSignature } from "better-auth/crypto";
import { eq } from "drizzle-orm";
import express, { type Request, type Response, Router } from "express";
import { z } from "zod";
import { type Auth, CLIENT_IP_HEADER } from "../auth/auth.ts";
import type { AuthThrottle } from "../auth/throttle.ts";
import type { Database } from "../db/connect.ts";
import { oauthClient } from "../db/oauth-schema.ts";
import { type ConsentView, consentPageHeaders, formTargetOf, renderConsentPage } from "./consent-page.ts";
import { CONSENT_PAGE_PATH } from "./provider.ts";

export type ConsentRoutesOptions = {
  auth: Auth;
  db: Database["db"];
  publicUrl: URL;
  throttle: AuthThrottle;
};

/** A per-browser random value; the form's CSRF token is an HMAC of it, so another site can forge neither. */
const CSRF_COOKIE = "margin_oauth_csrf";

const formSchema = z.object({
  action: z.enum(["sign-in", "sign-up", "allow", "deny", "switch-account"]),
  oauth_query: z.string().min(1).max(8192),
  csrf: z.string().min(1).max(200),
  email: z.string().trim().max(320).optional(),
  password: z.string().max(256).optional(),
});

/** The authorization request better-auth signed when it sent the browser here (what the client asked). */
type SignedRequest = { clientId: string; redirectUri: string; scopes: string[] };

/**
 * `GET /oauth/consent` shows sign-in or consent for the authorization request in its (signed) query;
 * `POST /oauth/consent` takes the page's forms and answers with a 303 to where the flow goes next: this
 * page again, or the client's redirect URI with a code or `access_denied`. better-auth does the OAuth work
 * (its /sign-in/email and /oauth2/consent endpoints); this router only renders, checks CSRF and forwards.
 */
export function createConsentRouter(opts: ConsentRoutesOptions): Router {
  const router = Router();
  const origin = opts.publicUrl.origin;
  const secure = opts.publicUrl.protocol === "https:";
  const secret = async () => (await opts.auth.$context).secret;

  const csrfToken = async (value: string) =>
    createHmac("sha256", await secret())
      .update(`oauth-consent:${value}`)
      .digest("base64url");

  /** The browser's CSRF cookie, set anew when missing (a cross-site redirect here may not carry it). */
  const csrfCookie = (req: Request, res: Response): string => {
    const existing = cookieOf(req, CSRF_COOKIE);
    if (existing && /^[\w-]{43}$/.test(existing)) return existing;
    const value = randomBytes(32).toString("base64url");
    res.append(
      "Set-Cookie",
      `${CSRF_COOKIE}=${value}; Path=/oauth; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}`,
    );
    return value;
  };

  const verifySignedQuery = async (query: string): Promise<SignedRequest | null> => {
    const params = new URLSearchParams(query);
    const signatures = params.getAll("sig");
    params.delete("sig");
    const canonical = new URLSearchParams(
      [...params.entries()].sort(([a, av], [b, bv]) =>
        a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0,
      ),
    );
    const expected = await makeSignature(canonical.toString(), await secret());
    const valid =
      signatures.length === 1 &&
      constantTimeEqual(signatures[0]!, expected) &&
      Number(params.get("exp")) * 1000 >= Date.now();
    const clientId = params.get("client_id");
    const redirectUri = params.get("redirect_uri");
    if (!valid || !clientId || !redirectUri) return null;
    return { clientId, redirectUri, scopes: (params.get("scope") ?? "").split(" ").filter(Boolean) };
  };

  const findClient = async (clientId: string) => {
    const [client] = await opts.db
      .select({ name: oauthClient.name, uri: oauthClient.uri, disabled: oauthClient.disabled })
      .from(oauthClient)
      .where(eq(oauthClient.clientId, clientId))
      .limit(1);
    return client && !client.disabled ? client : null;
  };

  /** better-auth, called the way the browser would have: its cookies, the gateway's Origin, JSON back. */
  const callAuth = (req: Request, path: string, body: unknown) => {
    const headers = new Headers({
      "content-type": "application/json",
      accept: "application/json",
      origin,
      [CLIENT_IP_HEADER]: clientIp(req),
    });
    const cookie = req.get("cookie");
    if (cookie) headers.set("cookie", cookie);
    const agent = req.get("user-agent");
    if (agent) headers.set("user-agent", agent);
    return opts.auth.handler(
      new Request(`${origin}/api/auth${path}`, { method: "POST", headers, body: JSON.stringify(body) }),
    );
  };

  const sessionEmail = async (req: Request): Promise<string | null> => {
    const cookie = req.get("cookie");
    if (!cookie) return null;
    const found = await opts.auth.api.getSession({ headers: new Headers({ cookie }) }).catch(() => null);
    return found?.user.email ?? null;
  };

  const render = async (res: Response, status: number, view: ConsentView, targets: string[]) => {
    const nonce = randomBytes(16).toString("base64");
    res
      .status(status)
      .set(consentPageHeaders(nonce, targets))
      .type("html")
      .send(renderConsentPage(view, nonce));
  };

  /** The page for `query` as it stands: sign-in when there is no session, else consent. */
  const showPage = async (
    req: Request,
    res: Response,
    query: string,
    extra: { error?: string; email?: string; status?: number } = {},
  ) => {
    const csrf = await csrfToken(csrfCookie(req, res));
    const request = await verifySignedQuery(query);
    if (!request) {
      return render(res, 400, { kind: "error", message: "This sign-in link is invalid or has expired." }, []);
    }
    const client = await findClient(request.clientId);
    if (!client) return render(res, 400, { kind: "error", message: "This app is not registered here." }, []);
    // Self-chosen at registration: shown as text, and no longer than a name needs to be.
    const clientName = client.name?.trim().slice(0, 80) || "An unnamed app";
    const target = formTargetOf(request.redirectUri);
    const targets = target ? [target] : [];
    const email = await sessionEmail(req);
    if (!email) {
      return render(
        res,
        extra.status ?? 200,
        { kind: "sign-in", query, csrf, clientName, ...extra },
        targets,
      );
    }
    const view: ConsentView = {
      kind: "consent",
      query,
      csrf,
      clientName,
      clientUri: client.uri ?? undefined,
      redirectUri: request.redirectUri,
      scopes: request.scopes,
      email,
    };
    return render(res, extra.status ?? 200, view, targets);
  };

  /** Follows better-auth's answer: `{ url }` (or a redirect) to the next step; its cookies go along. */
  const forward = async (res: Response, answer: globalThis.Response, fallback: string) => {
    const cookies = answer.headers.getSetCookie();
    if (cookies.length) res.append("Set-Cookie", cookies);
    const location = answer.headers.get("location");
    const data = (await answer.json().catch(() => null)) as { url?: unknown } | null;
    const next = typeof data?.url === "string" ? data.url : (location ?? fallback);
    res.set("Cache-Control", "no-store").redirect(303, new URL(next, origin).href);
  };

  const pagePath = (query: string) => `${CONSENT_PAGE_PATH}?${query}`;

  router.get(CONSENT_PAGE_PATH, async (req, res) => {
    const query = req.originalUrl.split("?")[1] ?? "";
    await showPage(req, res, query);
  });

  router.post(
    CONSENT_PAGE_PATH,
    express.urlencoded({ extended: false, limit: "16kb", parameterLimit: 20 }),
    async (req, res) => {
      const parsed = formSchema.safeParse(req.body);
      const cookie = cookieOf(req, CSRF_COOKIE);
      if (!parsed.success || !cookie || !safeEqual(parsed.data.csrf, await csrfToken(cookie))) {
        return render(
          res,
          403,
          { kind: "error", message: "The form expired or did not come from this page." },
          [],
        );
      }
      const { action, oauth_query: query, email, password } = parsed.data;

      if (action === "sign-in" || action === "sign-up") {
        const ip = clientIp(req);
        const account = email ?? "";
        if (action === "sign-up") {
          const limited = await opts.throttle.takeSignUp(ip);
          if (limited) {
            res.set("Retry-After", String(limited.retryAfterSeconds));
            return showPage(req, res, query, {
              status: 429,
              email,
              error: `Too many new accounts from here. Try again in ${limited.retryAfterSeconds} seconds.`,
            });
          }
          // Sign-up answers alike for new and taken emails and opens no session; signing in tells them apart.
          const created = await callAuth(req, "/sign-up/email", {
            email,
            password,
            name: account.split("@")[0] || account,
          });
          if (!created.ok) {
            const body = (await created.json().catch(() => null)) as { message?: unknown } | null;
            const message = typeof body?.message === "string" ? body.message : undefined;
            return showPage(req, res, query, {
              status: 400,
              email,
              error: message ?? "Could not create the account.",
            });
          }
        }
        const verdict = await opts.throttle.beforeSignIn(ip, account);
        if (verdict) {
          res.set("Retry-After", String(verdict.retryAfterSeconds));
          return showPage(req, res, query, {
            status: 429,
            email,
            error: `Too many attempts. Try again in ${verdict.retryAfterSeconds} seconds.`,
          });
        }
        // With oauth_query, better-auth resumes the authorization once the session exists.
        const answer = await callAuth(req, "/sign-in/email", { email, password, oauth_query: query });
        if (!answer.ok) {
          if (answer.status === 401) await opts.throttle.signInFailed(ip, account);
          const error =
            answer.status !== 401
              ? "Could not sign in. Try again in a moment."
              : action === "sign-up"
                ? "Could not sign in with that password. If you already have an account with this email, sign in with its password."
                : "Wrong email or password.";
          return showPage(req, res, query, { status: answer.status === 401 ? 401 : 400, email, error });
        }
        await opts.throttle.signInSucceeded(ip, account);
        return forward(res, answer, pagePath(query));
      }

      if (action === "switch-account") {
        const answer = await callAuth(req, "/sign-out", {});
        const cookies = answer.headers.getSetCookie();
        if (cookies.length) res.append("Set-Cookie", cookies);
        return res.redirect(303, pagePath(query));
      }

      const answer = await callAuth(req, "/oauth2/consent", {
        accept: action === "allow",
        oauth_query: query,
      });
      if (answer.status === 401) return showPage(req, res, query, { status: 401, error: "Sign in again." });
      if (!answer.ok) {
        return render(
          res,
          400,
          { kind: "error", message: "This request could not be completed; it may have expired." },
          [],
        );
      }
      return forward(res, answer, pagePath(query));
    },
  );
  return router;
}

function clientIp(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? "unknown";
}

function cookieOf(req: Request, name: string): string | undefined {
  for (const part of (req.get("cookie") ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return undefined;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
