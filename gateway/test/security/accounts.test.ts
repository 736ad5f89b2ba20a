// Issue 12 items 12, 13 and 15: sign-up that doesn't reveal accounts, one error shape, API keys that
// expire and show their last use.
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createApiKey } from "../../src/auth/accounts.ts";
import { apikey } from "../../src/db/schema.ts";
import { bearer, postJson, signUp, TEST_PASSWORD } from "../support/auth.ts";
import { postMcp } from "../support/gateway.ts";
import { gatewayForFile } from "../support/gateway-for-file.ts";

const { database, gw } = gatewayForFile();

const DAY = 24 * 60 * 60 * 1000;

describe("sign-up does not reveal which emails have accounts", () => {
  it("answers a taken email exactly like a new one: 200, no session, the same shape", async () => {
    await signUp(gw.baseUrl, "taken@example.com");
    const shape = async (email: string) => {
      const res = await postJson(gw.baseUrl, "/api/auth/sign-up/email", {
        email,
        password: "another-password",
        name: "x",
      });
      const body = await res.json();
      return {
        status: res.status,
        token: body.token,
        authHeader: res.headers.get("set-auth-token"),
        keys: Object.keys(body.user).sort(),
      };
    };
    const existing = await shape("taken@example.com");
    const fresh = await shape("fresh@example.com");
    expect(existing).toEqual(fresh);
    expect(existing).toMatchObject({ status: 200, token: null, authHeader: null });
    // The taken account keeps its own password.
    const original = await postJson(gw.baseUrl, "/api/auth/sign-in/email", {
      email: "taken@example.com",
      password: TEST_PASSWORD,
    });
    expect(original.status).toBe(200);
  });
});

describe("one error shape", () => {
  it("maps better-auth's errors to { error: { code, message } }", async () => {
    const wrong = await postJson(gw.baseUrl, "/api/auth/sign-in/email", {
      email: "nobody@example.com",
      password: "not-a-password",
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({
      error: { code: "invalid_email_or_password", message: expect.any(String) },
    });
    const signedOut = await fetch(`${gw.baseUrl}/api/auth/list-sessions`);
    expect(signedOut.status).toBe(401);
    expect((await signedOut.json()).error).toMatchObject({ code: "unauthorized" });
    // better-auth answers an unknown or disabled endpoint with an empty 404.
    for (const path of ["/api/auth/sign-in/email/", "/api/auth/no-such-thing"]) {
      const missing = await postJson(gw.baseUrl, path, {});
      expect(missing.status, path).toBe(404);
      expect((await missing.json()).error, path).toEqual({ code: "not_found", message: "No such endpoint." });
    }
  });

  it("keeps the device grant's OAuth errors as RFC 8628 says", async () => {
    const code = await (
      await postJson(gw.baseUrl, "/api/auth/device/code", { client_id: "margin-extension" })
    ).json();
    const poll = await postJson(gw.baseUrl, "/api/auth/device/token", {
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
      device_code: code.device_code,
      client_id: "margin-extension",
    });
    expect(poll.status).toBe(400);
    expect((await poll.json()).error).toBe("authorization_pending");
  });

  it("tells an API key sent to /api that API keys are for /mcp", async () => {
    await signUp(gw.baseUrl, "key-on-api@example.com");
    const { key } = await createApiKey(gw.auth, database.db, { email: "key-on-api@example.com" });
    const res = await gw.api("/api/tasks", key);
    expect(res.status).toBe(401);
    const { error } = await res.json();
    expect(error.code).toBe("api_key_not_accepted");
    expect(error.message).toMatch(/\/mcp/);
    expect(error.message).not.toMatch(/signed out/);
  });
});

describe("API keys expire and show their last use", () => {
  it("default to a year, take a shorter life, and refuse more than a year", async () => {
    const token = await signUp(gw.baseUrl, "keys@example.com");
    const create = (body: Record<string, unknown>) =>
      postJson(gw.baseUrl, "/api/auth/api-key/create", body, bearer(token));
    const plain = await (await create({ name: "default" })).json();
    expect(Math.abs(new Date(plain.expiresAt).getTime() - (Date.now() + 365 * DAY))).toBeLessThan(DAY);
    const week = await (await create({ name: "week", expiresIn: 7 * 86_400 })).json();
    expect(Math.abs(new Date(week.expiresAt).getTime() - (Date.now() + 7 * DAY))).toBeLessThan(DAY);
    expect((await create({ name: "forever", expiresIn: 400 * 86_400 })).status).toBe(400);
    // Nor can an update take the expiry away (better-auth reads expiresIn: null as "never").
    const update = (body: Record<string, unknown>) =>
      postJson(gw.baseUrl, "/api/auth/api-key/update", { keyId: week.id, ...body }, bearer(token));
    const never = await update({ expiresIn: null });
    expect(never.status).toBe(400);
    expect((await never.json()).error.code).toBe("invalid_expiry");
    const [kept] = await database.db.select().from(apikey).where(eq(apikey.id, week.id));
    expect(kept?.expiresAt).toBeInstanceOf(Date);
    const month = await update({ expiresIn: 30 * 86_400 });
    expect(month.status).toBe(200);
    expect(
      Math.abs(new Date((await month.json()).expiresAt).getTime() - (Date.now() + 30 * DAY)),
    ).toBeLessThan(DAY);
    // The CLI's keys get the default too.
    const cli = await createApiKey(gw.auth, database.db, { email: "keys@example.com", name: "cli" });
    const [row] = await database.db.select().from(apikey).where(eq(apikey.id, cli.id));
    expect(row?.expiresAt).toBeInstanceOf(Date);
  });

  it("lists when each key was last used, and refuses an expired key at /mcp", async () => {
    const token = await signUp(gw.baseUrl, "last-use@example.com");
    const { key, id } = await createApiKey(gw.auth, database.db, { email: "last-use@example.com" });
    const listed = async () =>
      (
        (await (await fetch(`${gw.baseUrl}/api/auth/api-key/list`, { headers: bearer(token) })).json())
          .apiKeys as {
          id: string;
          lastRequest: string | null;
          expiresAt: string | null;
        }[]
      ).find((k) => k.id === id)!;
    expect((await listed()).lastRequest).toBeNull();
    const ping = () => postMcp(gw, key, { jsonrpc: "2.0", id: 1, method: "ping" });
    const before = Date.now();
    expect((await ping()).status).toBe(200);
    const used = await listed();
    expect(new Date(used.lastRequest!).getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(used.expiresAt).not.toBeNull();

    await database.db
      .update(apikey)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(apikey.id, id));
    // The row changed under the gateway's key cache: the change reaches it (api_key_changed) within a second.
    await expect.poll(async () => (await ping()).status, { timeout: 1000, interval: 20 }).toBe(401);
  });
});
