import cors from "cors";
import { Router } from "express";
import type { Auth } from "../auth/auth.ts";

/**
 * Endpoints any MCP client may call from any origin (browser-based clients such as the Inspector call them
 * with CORS): discovery, registration, token and revocation. None of them reads a cookie, so no other site
 * can act for a signed-in user through them; the consent page and /authorize keep the origin checks.
 */
export const OAUTH_OPEN_PATHS = [
  "/.well-known/oauth-authorization-server",
  "/.well-known/oauth-protected-resource",
  "/api/auth/oauth2/register",
  "/api/auth/oauth2/token",
  "/api/auth/oauth2/revoke",
];

export function isOAuthOpenPath(path: string): boolean {
  return OAUTH_OPEN_PATHS.some((open) => path === open || path.startsWith(`${open}/`));
}

/** CORS for the open endpoints: any origin, no credentials. Mount before the gateway's own CORS. */
export const oauthOpenCors = cors({ origin: "*", credentials: false, maxAge: 600 });

/**
 * RFC 8414 authorization-server metadata. The issuer is `<gateway>/api/auth`, so its RFC 8414 location is
 * `/.well-known/oauth-authorization-server/api/auth`; the bare root path is served too, for clients that
 * look there without reading the resource metadata first.
 */
export function createOAuthMetadataRouter(auth: Auth): Router {
  const router = Router();
  router.get(
    ["/.well-known/oauth-authorization-server", "/.well-known/oauth-authorization-server/api/auth"],
    async (_req, res) => {
      const metadata = await auth.api.getOAuthServerConfig();
      res.set("Cache-Control", "public, max-age=300").json(metadata);
    },
  );
  return router;
}
