// Issue 11: verified sessions (and /mcp's API keys) are cached per instance, and every instance drops them at
// once when a session is revoked, a key deleted or disabled, a password changes or a user changes, wherever that
// happened.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../../src/auth/accounts.ts";
import { AUTH_CHANGES_CHANNEL } from "../../src/auth/session-events.ts";
import { bearer, postJson, signIn, signUp, TEST_PASSWORD } from "../support/auth.ts";
import { type GatewayHarness, postMcp, startGatewayHarness } from "../support/gateway.ts";
import { startMcpHttpHarness } from "../support/mcp.ts";
import { databaseForFile } from "../support/suite.ts";

const database = databaseForFile();
let a: GatewayHarness;
let b: GatewayHarness;

// A minute: long enough that only the cross-instance notification can explain a refusal within a second.
const LONG_TTL_MS = 60_000;

beforeAll(async () => {
  const mcp = await startMcpHttpHarness(database);
  a = await startGatewayHarness(database, { mcp, sessionCacheTtlMs: LONG_TTL_MS });
  b = await startGatewayHarness(database, { mcp, sessionCacheTtlMs: LONG_TTL_MS });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await a?.mcp.close();
});

/** Polls instance `gw` until `token` is refused; returns how long that took (ms), or fails after 3 s. */
async function refusedWithin(gw: GatewayHarness, token: string): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < 3000) {
    const res = await gw.api("/api/tasks", token);
    await res.arrayBuffer();
    if (res.status === 401) return performance.now() - started;
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("the token still works after 3 s");
}

const sessionsOf = async (gw: GatewayHarness, token: string) =>
  (await (await fetch(`${gw.baseUrl}/api/auth/list-sessions`, { headers: bearer(token) })).json()) as {
    id: string;
    current: boolean;
  }[];

describe("session cache across gateway instances", () => {
  it("a session revoked on one instance is refused on the other within a second", async () => {
    const laptop = await signUp(a.baseUrl, "cache-revoke@example.com");
    const phone = await signIn(a.baseUrl, "cache-revoke@example.com");
    // B verifies the phone's session, and caches it.
    for (let i = 0; i < 3; i++) expect((await b.api("/api/tasks", phone)).status).toBe(200);

    const other = (await sessionsOf(a, laptop)).find((s) => !s.current)!;
    const revoked = await postJson(a.baseUrl, "/api/auth/revoke-session", { id: other.id }, bearer(laptop));
    expect(revoked.status).toBe(200);

    expect(await refusedWithin(b, phone)).toBeLessThan(1000);
    expect((await b.api("/api/tasks", laptop)).status).toBe(200);
  });

  it("signing out on one instance ends the token on the other within a second", async () => {
    const token = await signUp(a.baseUrl, "cache-signout@example.com");
    expect((await b.api("/api/tasks", token)).status).toBe(200);
    expect((await a.api("/api/tasks", token)).status).toBe(200);
    const out = await postJson(a.baseUrl, "/api/auth/sign-out", {}, bearer(token));
    expect(out.status).toBe(200);
    // The instance that signed out refuses at once; the other within a second.
    expect((await a.api("/api/tasks", token)).status).toBe(401);
    expect(await refusedWithin(b, token)).toBeLessThan(1000);
  });

  it("a password change on one instance signs the other sessions out everywhere", async () => {
    const keeper = await signUp(a.baseUrl, "cache-password@example.com");
    const stolen = await signIn(a.baseUrl, "cache-password@example.com");
    expect((await b.api("/api/tasks", stolen)).status).toBe(200);
    const changed = await postJson(
      a.baseUrl,
      "/api/auth/change-password",
      { currentPassword: TEST_PASSWORD, newPassword: "another-long-password-1", revokeOtherSessions: true },
      bearer(keeper),
    );
    expect(changed.status).toBe(200);
    expect(await refusedWithin(b, stolen)).toBeLessThan(1000);
  });

  it("a time zone changed on one instance is the zone the other uses at once", async () => {
    const token = await signUp(a.baseUrl, "cache-zone@example.com", { timezone: "UTC" });
    const zoneOn = async (gw: GatewayHarness) => {
      const res = await gw.api("/api/dates/preview?due=today%2023:00", token);
      expect(res.status).toBe(200);
      return ((await res.json()) as { due: { timezone?: string; tz?: string } }).due;
    };
    const before = await zoneOn(b);
    const updated = await postJson(
      a.baseUrl,
      "/api/auth/update-user",
      { timezone: "Asia/Tokyo" },
      bearer(token),
    );
    expect(updated.status).toBe(200);
    const started = performance.now();
    let after = await zoneOn(b);
    while (JSON.stringify(after) === JSON.stringify(before) && performance.now() - started < 3000) {
      await new Promise((r) => setTimeout(r, 20));
      after = await zoneOn(b);
    }
    expect(JSON.stringify(after)).toContain("Asia/Tokyo");
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

/** tools/list at /mcp with an API key: 200 while the key works, 401 once it doesn't. */
const mcpStatus = async (gw: GatewayHarness, key: string) => {
  const res = await postMcp(gw, key, { jsonrpc: "2.0", id: 1, method: "tools/list", params: {} });
  await res.arrayBuffer();
  return res.status;
};

async function keyRefusedWithin(gw: GatewayHarness, key: string): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < 3000) {
    const status = await mcpStatus(gw, key);
    if (status === 401) return performance.now() - started;
    expect(status).toBe(200);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("the key still works after 3 s");
}

describe("API key cache across gateway instances", () => {
  it("a key deleted on one instance is refused at once there, and within a second on the other", async () => {
    const email = "cache-key-delete@example.com";
    const token = await signUp(a.baseUrl, email);
    const key = await createApiKey(a.auth, database.db, { email, name: "laptop" });
    const kept = await createApiKey(a.auth, database.db, { email, name: "desktop" });
    for (const gw of [a, b]) for (const k of [key, kept]) expect(await mcpStatus(gw, k.key)).toBe(200);

    const deleted = await postJson(a.baseUrl, "/api/auth/api-key/delete", { keyId: key.id }, bearer(token));
    expect(deleted.status).toBe(200);
    expect(await mcpStatus(a, key.key)).toBe(401);
    expect(await keyRefusedWithin(b, key.key)).toBeLessThan(1000);
    for (const gw of [a, b]) expect(await mcpStatus(gw, kept.key)).toBe(200);
  });

  it("a key disabled on one instance is refused on the other within a second", async () => {
    const email = "cache-key-disable@example.com";
    const token = await signUp(a.baseUrl, email);
    const key = await createApiKey(a.auth, database.db, { email });
    expect(await mcpStatus(b, key.key)).toBe(200);
    const updated = await postJson(
      a.baseUrl,
      "/api/auth/api-key/update",
      { keyId: key.id, enabled: false },
      bearer(token),
    );
    expect(updated.status).toBe(200);
    expect(await keyRefusedWithin(b, key.key)).toBeLessThan(1000);
  });

  it("using a key tells no other instance anything: only changes to who may use it do", async () => {
    const email = "cache-key-quiet@example.com";
    await signUp(a.baseUrl, email);
    const key = await createApiKey(a.auth, database.db, { email });
    const heard: string[] = [];
    const unlisten = await database.listen(AUTH_CHANGES_CHANNEL, (payload) => heard.push(payload));
    try {
      // Each instance's first use is a miss, which records the key's last use in its row.
      for (const gw of [a, b, a, b]) expect(await mcpStatus(gw, key.key)).toBe(200);
      await new Promise((r) => setTimeout(r, 200));
      expect(heard.filter((p) => p.includes(key.id))).toEqual([]);
    } finally {
      await unlisten();
    }
  });
});
