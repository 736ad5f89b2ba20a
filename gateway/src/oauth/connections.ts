import { and, desc, eq, max } from "drizzle-orm";
import { Router } from "express";
import { z } from "zod";
import { currentUser } from "../auth/current-user.ts";
import type { Database } from "../db/connect.ts";
import { oauthAccessToken, oauthClient, oauthConsent, oauthRefreshToken } from "../db/oauth-schema.ts";
import { sendError } from "../http/errors.ts";
import { storable } from "../mcp-server/schemas.ts";

const clientIdParam = z.string().min(1).max(200).refine(storable);

/** An app the user has allowed, as the account page lists it. */
export type Connection = {
  clientId: string;
  name: string;
  uri: string | null;
  scopes: string[];
  connectedAt: Date | null;
  /** When it last got an access token (at connecting, or refreshing). */
  lastTokenAt: Date | null;
};

/** The apps `userId` has allowed, newest first. */
export async function listConnections(db: Database["db"], userId: string): Promise<Connection[]> {
  const lastIssued = db
    .select({ clientId: oauthAccessToken.clientId, at: max(oauthAccessToken.createdAt).as("last_issued") })
    .from(oauthAccessToken)
    .where(eq(oauthAccessToken.userId, userId))
    .groupBy(oauthAccessToken.clientId)
    .as("last_issued");
  const rows = await db
    .select({
      clientId: oauthConsent.clientId,
      name: oauthClient.name,
      uri: oauthClient.uri,
      scopes: oauthConsent.scopes,
      connectedAt: oauthConsent.createdAt,
      lastTokenAt: lastIssued.at,
    })
    .from(oauthConsent)
    .innerJoin(oauthClient, eq(oauthClient.clientId, oauthConsent.clientId))
    .leftJoin(lastIssued, eq(lastIssued.clientId, oauthConsent.clientId))
    .where(eq(oauthConsent.userId, userId))
    .orderBy(desc(oauthConsent.createdAt));
  return rows.map((r) => ({ ...r, name: r.name ?? "An unnamed app" }));
}

/**
 * Disconnects an app from `userId` at once: its consent and every access and refresh token it holds for this
 * user go in one transaction, so its next /mcp call is a 401, its next refresh is refused, and connecting
 * again asks the user again. False when the user had no such app.
 */
export async function disconnectApp(db: Database["db"], userId: string, clientId: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const owned = (table: typeof oauthAccessToken | typeof oauthRefreshToken | typeof oauthConsent) =>
      and(eq(table.clientId, clientId), eq(table.userId, userId));
    await tx.delete(oauthAccessToken).where(owned(oauthAccessToken));
    const tokens = await tx
      .delete(oauthRefreshToken)
      .where(owned(oauthRefreshToken))
      .returning({ id: oauthRefreshToken.id });
    const consents = await tx
      .delete(oauthConsent)
      .where(owned(oauthConsent))
      .returning({ id: oauthConsent.id });
    return tokens.length + consents.length > 0;
  });
}

/**
 * `GET /api/oauth/connections` and `DELETE /api/oauth/connections/:clientId` for bearer-signed-in clients
 * (the extension). Mount behind `requireSession`.
 */
export function createConnectionsRouter(db: Database["db"]): Router {
  const router = Router();
  router.get("/api/oauth/connections", async (_req, res) => {
    res.json({ connections: await listConnections(db, currentUser(res).id) });
  });
  router.delete("/api/oauth/connections/:clientId", async (req, res) => {
    const parsed = clientIdParam.safeParse(req.params.clientId);
    if (!parsed.success) return sendError(res, 400, "bad_request", "Give the clientId of a connected app.");
    if (!(await disconnectApp(db, currentUser(res).id, parsed.data))) {
      return sendError(res, 404, "not_found", "No connected app with that clientId.");
    }
    res.status(204).end();
  });
  return router;
}
