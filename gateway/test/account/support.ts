import { eq } from "drizzle-orm";
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
