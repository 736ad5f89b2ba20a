import { randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { chatItems, chatThreads } from "../../src/db/chat-schema.ts";
import { user } from "../../src/db/schema.ts";
import { signUp } from "../support/auth.ts";
import type { TestDatabase } from "../support/database.ts";
import type { GatewayHarness } from "../support/gateway.ts";

export type Person = { email: string; token: string; id: string };

let people = 0;

/** A signed-up, signed-in user with their id. */
export async function person(gw: GatewayHarness, database: TestDatabase, name: string): Promise<Person> {
  const email = `${name}+${++people}-${Date.now()}@example.com`;
  const token = await signUp(gw.baseUrl, email, { timezone: "Europe/Berlin" });
  const [row] = await database.db.select({ id: user.id }).from(user).where(eq(user.email, email));
  return { email, token, id: row!.id };
}

/** A task made through the REST API, as the panel makes it. */
export async function addTask(gw: GatewayHarness, who: Person, body: Record<string, unknown>) {
  const res = await gw.api("/api/tasks", who.token, { method: "POST", body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`add failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { task: { id: string } }).task;
}

/** A chat thread with one user message, as the ChatKit store keeps it. */
export async function addChatThread(database: TestDatabase, who: Person, title: string) {
  const threadId = `thr_${who.id.slice(0, 8)}_${++people}`;
  await database.db.insert(chatThreads).values({ id: threadId, userId: who.id, title });
  await database.db.insert(chatItems).values({
    id: `msg_${threadId}`,
    threadId,
    userId: who.id,
    type: "user_message",
    data: { type: "user_message", content: [{ type: "input_text", text: `hello from ${title}` }] },
  });
  return threadId;
}

/**
 * An MCP client this user let in over OAuth: its consent and an access token, as the OAuth provider stores
 * them. The client registered itself (dynamic registration), so it is not the user's and outlives them.
 */
export async function grantOAuthClient(database: TestDatabase, who: Person, name = "Claude Desktop") {
  const clientId = `client-${randomUUID()}`;
  await database.db.execute(sql`insert into oauth_client (id, client_id, name, redirect_uris, created_at, updated_at)
    values (${clientId}, ${clientId}, ${name}, '{http://127.0.0.1:33418/callback}', now(), now())`);
  await database.db.execute(sql`insert into oauth_consent (id, client_id, user_id, scopes, created_at, updated_at)
    values (${`consent-${who.id}-${clientId}`}, ${clientId}, ${who.id}, '{mcp}', now(), now())`);
  await database.db.execute(sql`insert into oauth_access_token (id, token, client_id, user_id, scopes, created_at)
    values (${`at-${who.id}-${clientId}`}, ${`hash-${clientId}`}, ${clientId}, ${who.id}, '{mcp}', now())`);
  return clientId;
}
