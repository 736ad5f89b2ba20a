import { randomUUID } from "node:crypto";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createApiKey } from "../../src/auth/accounts.ts";
import { signMcpToken } from "../../src/mcp-server/token.ts";
import { ACCOUNT_GONE_MESSAGE } from "../../src/mcp-server/tool.ts";
import { ACCESS_TOKEN_PREFIX, hashToken, mcpResourceOf } from "../../src/oauth/provider.ts";
import { TEST_PASSWORD } from "../support/auth.ts";
import { startGatewayHarness } from "../support/gateway.ts";
import { gatewayForFile } from "../support/gateway-for-file.ts";
import { call, TEST_SECRET } from "../support/mcp.ts";
import { addChatThread, addTask, grantOAuthClient, type Person, person } from "./support.ts";

const { database, gw } = gatewayForFile();

/** Someone with data in every kind of table: tasks (one done, one deleted), change log, chat, API key, sessions. */
async function withData(name: string): Promise<Person> {
  const who = await person(gw, database, name);
  await addTask(gw, who, { title: `${name} pending`, due: "every monday at 9", labels: ["x"] });
  const done = await addTask(gw, who, { title: `${name} done` });
  await gw.api(`/api/tasks/${done.id}/complete`, who.token, { method: "POST" });
  const trashed = await addTask(gw, who, { title: `${name} trashed` });
  await gw.api(`/api/tasks/${trashed.id}`, who.token, { method: "DELETE" });
  await addChatThread(database, who, `${name}'s chat`);
  await createApiKey(gw.auth, database.db, { email: who.email, name: "cli" });
  await grantOAuthClient(database, who);
  return who;
}

/**
 * Rows anywhere in the database that mention the id (or email): every base table in every schema the app uses,
 * each row as text (jsonb and arrays included). User ids are long random strings, so a match is the user's row.
 */
async function rowsMentioning(id: string): Promise<Record<string, number>> {
  const tables = (await database.db.execute(sql`select table_schema, table_name from information_schema.tables
    where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')`)) as unknown;
  const list = (Array.isArray(tables) ? tables : (tables as { rows: unknown[] }).rows) as {
    table_schema: string;
    table_name: string;
  }[];
  expect(list.length).toBeGreaterThan(8);
  const found: Record<string, number> = {};
  for (const { table_schema, table_name } of list) {
    const name = sql.raw(`"${table_schema}"."${table_name}"`);
    const result = (await database.db.execute(
      sql`select count(*)::int as n from ${name} t where t::text like ${`%${id}%`}`,
    )) as unknown;
    const [row] = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as { n: number }[];
    if (row!.n > 0) found[`${table_schema}.${table_name}`] = row!.n;
  }
  return found;
}

const deleteAccount = (who: Person, password: unknown) =>
  gw.api("/api/account", who.token, { method: "DELETE", body: JSON.stringify({ password }) });

describe("DELETE /api/account", () => {
  it("removes every row of the user from every table, in one go, and leaves others' rows alone", async () => {
    const alice = await withData("alice");
    const bob = await withData("bob");
    const before = await rowsMentioning(alice.id);
    for (const table of [
      "public.user",
      "public.session",
      "public.account",
      "public.apikey",
      "public.tasks",
    ]) {
      expect(before[table], table).toBeGreaterThan(0);
    }
    expect(before["public.task_changes"]).toBeGreaterThan(0);
    expect(before["public.oauth_consent"]).toBe(1);
    expect(before["public.oauth_access_token"]).toBe(1);
    expect(before["chat.threads"]).toBe(1);
    expect(before["chat.items"]).toBe(1);
    const bobBefore = await rowsMentioning(bob.id);

    const res = await deleteAccount(alice, TEST_PASSWORD);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ deleted: true });

    expect(await rowsMentioning(alice.id)).toEqual({});
    expect(await rowsMentioning(alice.email)).toEqual({});
    expect(await rowsMentioning(bob.id)).toEqual(bobBefore);
    // The session went with the account: the token no longer works, and bob's still does.
    expect((await gw.api("/api/tasks", alice.token)).status).toBe(401);
    expect((await gw.api("/api/tasks", bob.token)).status).toBe(200);
  });

  it("refuses without the account's password, and deletes nothing", async () => {
    const carol = await withData("carol");
    const before = await rowsMentioning(carol.id);
    for (const password of ["not-the-password", ""]) {
      const res = await deleteAccount(carol, password);
      expect(res.status, password).toBe(password ? 403 : 400);
    }
    const missing = await gw.api("/api/account", carol.token, { method: "DELETE" });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toMatch(/password/);
    expect(await rowsMentioning(carol.id)).toEqual(before);
    expect((await deleteAccount(carol, TEST_PASSWORD)).status).toBe(200);
    // The failed attempts were counted under the email; the counters go with the account.
    expect(await rowsMentioning(carol.id)).toEqual({});
    expect(await rowsMentioning(carol.email)).toEqual({});
  });

  it("needs a signed-in session", async () => {
    const res = await gw.api("/api/account", undefined, {
      method: "DELETE",
      body: JSON.stringify({ password: TEST_PASSWORD }),
    });
    expect(res.status).toBe(401);
  });

  it("tells every gateway instance the sessions are gone (auth_changes)", async () => {
    const dave = await withData("dave");
    const heard: { kind: string; user_id: string }[] = [];
    const unlisten = await database.listen("auth_changes", (payload) => heard.push(JSON.parse(payload)));
    try {
      expect((await deleteAccount(dave, TEST_PASSWORD)).status).toBe(200);
      await expect
        .poll(() => heard.filter((c) => c.user_id === dave.id).map((c) => c.kind), { timeout: 5000 })
        .toEqual(expect.arrayContaining(["session_revoked", "user_deleted"]));
    } finally {
      await unlisten();
    }
  });

  it("ends the account's sessions on every gateway instance within a second", async () => {
    const other = await startGatewayHarness(database, { mcp: gw.mcp });
    try {
      const fay = await person(gw, database, "fay");
      // The other instance has seen (and may cache) the session.
      expect((await other.api("/api/tasks", fay.token)).status).toBe(200);
      expect((await deleteAccount(fay, TEST_PASSWORD)).status).toBe(200);
      const deleted = Date.now();
      await expect
        .poll(async () => (await other.api("/api/tasks", fay.token)).status, { timeout: 1000 })
        .toBe(401);
      expect(Date.now() - deleted).toBeLessThan(1000);
    } finally {
      await other.close();
    }
  });

  it("tells a still-valid MCP token of the deleted account that the account is gone, and writes nothing", async () => {
    const erin = await person(gw, database, "erin");
    // The gateway caches MCP tokens for minutes; one minted before the deletion outlives it.
    const token = await signMcpToken(TEST_SECRET, { userId: erin.id, tz: "UTC", audience: gw.mcp.url.href });
    expect((await deleteAccount(erin, TEST_PASSWORD)).status).toBe(200);
    const client = new Client({ name: "late", version: "1.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(gw.mcp.url, {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    // A plain call (answered directly) and a batch (answered by the SDK's server) say the same.
    const gone = { code: "account_deleted", message: ACCOUNT_GONE_MESSAGE };
    const result = await call(client, "add_task", { title: "written after deletion" });
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toEqual({ error: gone });
    expect(result.content).toEqual([{ type: "text", text: ACCOUNT_GONE_MESSAGE }]);
    const batch = await fetch(gw.mcp.url, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify(
        [1, 2].map((id) => ({
          jsonrpc: "2.0",
          id,
          method: "tools/call",
          params: { name: "add_task", arguments: { title: `batched ${id}` } },
        })),
      ),
    });
    const answers = (await batch.json()) as { result: CallToolResult }[];
    expect(answers.map((a) => a.result.structuredContent)).toEqual([{ error: gone }, { error: gone }]);
    await client.close();
    expect(await rowsMentioning(erin.id)).toEqual({});
  });

  it("refuses the deleted account's API key and OAuth token at /mcp with 401 and a challenge", async () => {
    const frank = await person(gw, database, "frank");
    const { key } = await createApiKey(gw.auth, database.db, { email: frank.email, name: "cli" });
    const accessToken = await issueOAuthAccessToken(frank);
    const listTasks = (bearer: string) =>
      fetch(`${gw.baseUrl}/mcp`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${bearer}`,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
        },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "tools/call",
          params: { name: "list_tasks", arguments: {} },
        }),
      });
    for (const bearer of [key, accessToken]) expect((await listTasks(bearer)).status).toBe(200);
    expect((await deleteAccount(frank, TEST_PASSWORD)).status).toBe(200);
    for (const bearer of [key, accessToken]) {
      const res = await listTasks(bearer);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(
        /^Bearer error="invalid_token".*resource_metadata=/,
      );
    }
  });
});

/** A live OAuth access token for `/mcp`, stored as the OAuth provider stores one (digest, resource, expiry). */
async function issueOAuthAccessToken(who: Person): Promise<string> {
  const clientId = await grantOAuthClient(database, who);
  const token = `${ACCESS_TOKEN_PREFIX}${randomUUID()}`;
  await database.db.execute(sql`update oauth_access_token
    set token = ${hashToken(token.slice(ACCESS_TOKEN_PREFIX.length))}, scopes = '{tasks}',
      resources = ${`{${mcpResourceOf(gw.baseUrl)}}`}, expires_at = now() + interval '1 hour'
    where client_id = ${clientId}`);
  return token;
}
