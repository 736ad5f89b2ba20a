// The gateway as an OAuth 2.1 authorization server for MCP clients (better-auth's OAuth provider), with the
// MCP endpoint `/mcp` as its one protected resource.
import { createHash } from "node:crypto";
import { oauthProvider } from "@better-auth/oauth-provider";
import type { BetterAuthPlugin } from "better-auth";
import { createAuthMiddleware } from "better-auth/api";

/** What a client may ask for: the user's tasks, and staying connected (a refresh token). */
export const OAUTH_SCOPES = ["tasks", "offline_access"] as const;

/** Where better-auth sends the browser to sign in and to consent: one gateway page does both. */
export const CONSENT_PAGE_PATH = "/oauth/consent";

/** Token prefixes, so a leaked token is recognisable (secret scanners) and never mistaken for an API key. */
export const ACCESS_TOKEN_PREFIX = "margin_at_";
export const REFRESH_TOKEN_PREFIX = "margin_rt_";

const HOUR_SECONDS = 60 * 60;
const DAY_SECONDS = 24 * HOUR_SECONDS;

export const MCP_RESOURCE_NAME = "Margin tasks (MCP)";

/** The RFC 8707 resource indicator of the gateway's MCP endpoint; access tokens are bound to it. */
export function mcpResourceOf(baseURL: string): string {
  return new URL("/mcp", baseURL).href;
}

/** Tokens are stored as SHA-256 digests; the `/mcp` check (access-token.ts) looks them up the same way. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** A web client's redirect URIs are https on a real host; anything else (loopback, app schemes) is native. */
function isWebRedirect(uri: unknown): boolean {
  try {
    const url = new URL(String(uri));
    return url.protocol === "https:" && !LOOPBACK_HOSTS.has(url.hostname);
  } catch {
    return false;
  }
}

/** better-auth's OAuth provider, configured for MCP clients of `/mcp`. */
export function oauthProviderPlugin(opts: { baseURL: string }) {
  const resource = mcpResourceOf(opts.baseURL);
  return oauthProvider({
    loginPage: CONSENT_PAGE_PATH,
    consentPage: CONSENT_PAGE_PATH,
    scopes: [...OAUTH_SCOPES],
    resources: [{ identifier: resource, name: MCP_RESOURCE_NAME }],
    // Registered clients may ask for /mcp and nothing else.
    clientRegistrationDefaultResources: [resource],
    // MCP clients register themselves (RFC 7591) without an account; they are public clients with PKCE.
    allowDynamicClientRegistration: true,
    allowUnauthenticatedClientRegistration: true,
    grantTypes: ["authorization_code", "refresh_token"],
    // Signed-in users register clients like anyone else; better-auth's session endpoints for listing,
    // reading, changing, deleting clients and rotating secrets stay closed (nothing here needs them).
    clientPrivileges: ({ action }) => action === "create",
    // Opaque access tokens, looked up on every /mcp call: a revoked token stops working at once.
    disableJwtPlugin: true,
    storeTokens: { hash: hashToken },
    prefix: { opaqueAccessToken: ACCESS_TOKEN_PREFIX, refreshToken: REFRESH_TOKEN_PREFIX },
    accessTokenExpiresIn: HOUR_SECONDS,
    refreshTokenExpiresIn: 30 * DAY_SECONDS,
    // A client that retries a refresh (lost response) gets the same answer instead of losing its grant.
    refreshTokenReuseInterval: 30,
  });
}

/**
 * What MCP clients send that better-auth would otherwise refuse or leave unbound:
 * - RFC 7591 defaults application_type to "web", which better-auth then holds to https redirect URIs on public
 *   hosts. MCP clients are mostly desktop apps and CLIs that register loopback or app-scheme redirects without
 *   saying "native"; those count as native (RFC 8252) instead of being refused. A stated type is kept.
 * - An authorization request without `resource` (clients older than the 2025-06-18 spec) is for `/mcp`, the
 *   only resource here; without this its token would have no audience and /mcp would refuse it.
 */
export function mcpClientDefaults(opts: { baseURL: string }) {
  const resource = mcpResourceOf(opts.baseURL);
  return {
    id: "margin-oauth-mcp-defaults",
    hooks: {
      before: [
        {
          matcher: (ctx) => ctx.path === "/oauth2/register",
          handler: createAuthMiddleware(async (ctx) => {
            const body = ctx.body as Record<string, unknown> | undefined;
            if (!body || typeof body !== "object" || body.application_type !== undefined) return;
            const uris = Array.isArray(body.redirect_uris) ? body.redirect_uris : [];
            if (uris.length === 0 || uris.every(isWebRedirect)) return;
            return { context: { body: { ...body, application_type: "native" } } };
          }),
        },
        {
          matcher: (ctx) => ctx.path === "/oauth2/authorize",
          handler: createAuthMiddleware(async (ctx) => {
            const fromBody = ctx.method === "POST";
            const params = ((fromBody ? ctx.body : ctx.query) ?? {}) as Record<string, unknown>;
            if (params.resource !== undefined || params.request_uri !== undefined) return;
            const withResource = { ...params, resource };
            return { context: fromBody ? { body: withResource } : { query: withResource } };
          }),
        },
      ],
    },
  } satisfies BetterAuthPlugin;
}
