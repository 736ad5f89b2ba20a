import { randomBytes } from "node:crypto";
import type { Database } from "../db/connect.ts";
import { oauthResource } from "../db/oauth-schema.ts";
import { MCP_RESOURCE_NAME, mcpResourceOf } from "./provider.ts";

/**
 * Records `/mcp` as a protected resource before better-auth starts. Its OAuth provider seeds the row itself
 * at start-up, but does not recognise drizzle's error for a concurrent insert: two gateway instances booting
 * together on a fresh database would leave one with a failed auth context. Inserting here, idempotently,
 * leaves it nothing to insert.
 */
export async function ensureMcpResource(db: Database["db"], baseURL: string): Promise<void> {
  const now = new Date();
  await db
    .insert(oauthResource)
    .values({
      id: randomBytes(16).toString("base64url"),
      identifier: mcpResourceOf(baseURL),
      name: MCP_RESOURCE_NAME,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoNothing({ target: oauthResource.identifier });
}
