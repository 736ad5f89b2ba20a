// Issue 11: verified sessions are cached per instance, and every instance drops them at once when a session
// is revoked, a password changes or a user changes, wherever that happened.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, postJson, signIn, signUp, TEST_PASSWORD } from "../support/auth.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { type GatewayHarness, startGatewayHarness } from "../support/gateway.ts";
import { startMcpHttpHarness } from "../support/mcp.ts";

let database: TestDatabase;
let a: GatewayHarness;
let b: GatewayHarness;

// A minute: long enough that only the cross-instance notification can explain a refusal within a second.
const LONG_TTL_MS = 60_000;

beforeAll(async () => {
  database = await createTestDatabase();
  const mcp = await startMcpHttpHarness(database);
  a = await startGatewayHarness(database, { mcp, sessionCacheTtlMs: LONG_TTL_MS });
  b = await startGatewayHarness(database, { mcp, sessionCacheTtlMs: LONG_TTL_MS });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await a?.mcp.close();
  await database?.destroy();
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
