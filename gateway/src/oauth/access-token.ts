import { and, eq, gt, isNull, sql } from "drizzle-orm";
import type { CurrentUser } from "../auth/current-user.ts";
import type { Database } from "../db/connect.ts";
import { oauthAccessToken, oauthClient } from "../db/oauth-schema.ts";
import { user } from "../db/schema.ts";
import { ACCESS_TOKEN_PREFIX, hashToken } from "./provider.ts";

/** Whether a bearer value is one of this gateway's OAuth access tokens (and not an API key). */
export function isOAuthAccessToken(token: string): boolean {
  return token.startsWith(ACCESS_TOKEN_PREFIX);
}

/** The scope a token needs for /mcp: the user's tasks. */
export const MCP_SCOPE = "tasks";

export type OAuthCaller = { user: CurrentUser; scopes: string[] };

/**
 * The user an OAuth access token was issued to and the scopes it carries, or null when the token is unknown,
 * expired, revoked, from a disabled client, or bound to another resource (RFC 8707: its audience must name
 * `resource`). One indexed lookup, so revocation takes effect on the next call.
 *
 * The grant lives as long as its tokens do: unlike better-auth's introspection, it does not end with the
 * browser session the user consented in, which is only how they signed in on the consent page.
 */
export async function resolveOAuthUser(
  db: Database["db"],
  token: string,
  resource: string,
): Promise<OAuthCaller | null> {
  if (!isOAuthAccessToken(token)) return null;
  const [row] = await db
    .select({ id: user.id, email: user.email, timezone: user.timezone, scopes: oauthAccessToken.scopes })
    .from(oauthAccessToken)
    .innerJoin(user, eq(user.id, oauthAccessToken.userId))
    .innerJoin(oauthClient, eq(oauthClient.clientId, oauthAccessToken.clientId))
    .where(
      and(
        eq(oauthAccessToken.token, hashToken(token.slice(ACCESS_TOKEN_PREFIX.length))),
        gt(oauthAccessToken.expiresAt, new Date()),
        isNull(oauthAccessToken.revoked),
        sql`${resource} = any(${oauthAccessToken.resources})`,
        sql`${oauthClient.disabled} is not true`,
      ),
    )
    .limit(1);
  if (!row) return null;
  return { user: { id: row.id, email: row.email, timezone: row.timezone ?? "UTC" }, scopes: row.scopes };
}
