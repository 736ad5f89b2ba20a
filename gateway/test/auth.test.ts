import { Script } from "node:vm";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountError, createApiKey, createUser } from "../src/auth/accounts.ts";
import {
  currentUser,
  requireSession,
  resolveApiKeyUser,
  resolveSessionUser,
} from "../src/auth/current-user.ts";
import { deviceCode, session } from "../src/db/schema.ts";
import { type AuthServer, bearer, postJson, signUp, startAuthServer, TEST_PASSWORD } from "./support/auth.ts";
import { databaseForFile } from "./support/suite.ts";

const database = databaseForFile();
let server: AuthServer;
let base: string;

beforeAll(async () => {
  server = await startAuthServer(database.db, (app, auth) => {
    app.get("/api/me", requireSession(auth), (_req, res) => {
      res.json(currentUser(res));
    });
  });
  base = server.baseUrl;
});

afterAll(async () => {
  await server?.close();
});

let seq = 0;
const newEmail = () => `user${++seq}-${Date.now()}@example.com`;
const me = (headers: Record<string, string> = {}) => fetch(`${base}/api/me`, { headers });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("sign-up and sign-in", () => {
  it("signs up with a time zone, stored canonically", async () => {
    const email = newEmail();
    const token = await signUp(base, email, { timezone: "europe/berlin" });
    const res = await me(bearer(token));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ email, timezone: "Europe/Berlin" });
  });

  it("defaults the time zone to UTC", async () => {
    const token = await signUp(base, newEmail());
    expect((await (await me(bearer(token))).json()).timezone).toBe("UTC");
  });

  it("refuses an invalid time zone with 400 and a clear message, creating no user", async () => {
    const email = newEmail();
    const res = await postJson(base, "/api/auth/sign-up/email", {
      email,
      password: TEST_PASSWORD,
      name: "x",
      timezone: "Mars/Olympus_Mons",
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatchObject({
      code: "validation_error",
      message: expect.stringMatching(/IANA time zone/),
    });
    const signIn = await postJson(base, "/api/auth/sign-in/email", { email, password: TEST_PASSWORD });
    expect(signIn.status).toBe(401);
  });

  it("signs in; a wrong password is 401", async () => {
    const email = newEmail();
    await signUp(base, email);
    const ok = await postJson(base, "/api/auth/sign-in/email", { email, password: TEST_PASSWORD });
    expect(ok.status).toBe(200);
    const token = ok.headers.get("set-auth-token");
    expect(token).toBeTruthy();
    expect((await me(bearer(token!))).status).toBe(200);
    const wrong = await postJson(base, "/api/auth/sign-in/email", { email, password: "not-the-password" });
    expect(wrong.status).toBe(401);
  });

  it("checks the Origin even under NODE_ENV=test (missing or foreign origin → 403)", async () => {
    const body = JSON.stringify({ email: newEmail(), password: TEST_PASSWORD, name: "x" });
    const missing = await fetch(`${base}/api/auth/sign-up/email`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    expect(missing.status).toBe(403);
    const foreign = await postJson(base, "/api/auth/sign-up/email", JSON.parse(body), {
      origin: "https://evil.example",
    });
    expect(foreign.status).toBe(403);
  });

  it("changes the time zone through update-user, validated there too", async () => {
    const token = await signUp(base, newEmail());
    const bad = await postJson(base, "/api/auth/update-user", { timezone: "Not/AZone" }, bearer(token));
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toMatch(/IANA time zone/);
    const ok = await postJson(base, "/api/auth/update-user", { timezone: "America/New_York" }, bearer(token));
    expect(ok.status).toBe(200);
    expect((await (await me(bearer(token))).json()).timezone).toBe("America/New_York");
  });
});

describe("protected routes", () => {
  async function expectUnauthorized(res: Response, challenge: RegExp) {
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(challenge);
    expect(await res.json()).toEqual({ error: { code: "unauthorized", message: expect.any(String) } });
  }

  it("answers 401 JSON without a token", async () => {
    await expectUnauthorized(await me(), /^Bearer realm="margin"$/);
    await expectUnauthorized(await me({ authorization: "Basic dXNlcjpwYXNz" }), /^Bearer/);
  });

  it("answers 401 JSON (never 500) for garbage tokens and a bad x-api-key", async () => {
    for (const token of ["garbage", "a.b", "%zz%", "x".repeat(500), "abc.def.ghi", "ünïcode"]) {
      await expectUnauthorized(await me({ authorization: `Bearer ${encodeURI(token)}` }), /invalid_token/);
    }
    await expectUnauthorized(await me({ authorization: "Bearer not.signed" }), /invalid_token/);
  });

  it("tells an API key sent to /api that keys are for /mcp", async () => {
    const attempts: Record<string, string>[] = [
      { "x-api-key": "mgn_wrong" },
      { authorization: "Bearer mgn_somekey" },
    ];
    for (const headers of attempts) {
      const res = await me(headers);
      expect(res.status).toBe(401);
      expect((await res.json()).error).toMatchObject({
        code: "api_key_not_accepted",
        message: expect.stringMatching(/\/mcp/),
      });
    }
  });

  it("stops accepting a token once its session is signed out", async () => {
    const token = await signUp(base, newEmail());
    expect((await me(bearer(token))).status).toBe(200);
    const out = await postJson(base, "/api/auth/sign-out", {}, bearer(token));
    expect(out.status).toBe(200);
    await expectUnauthorized(await me(bearer(token)), /invalid_token/);
  });

  it("ignores the session cookie: only the bearer header authorises API calls", async () => {
    const email = newEmail();
    await signUp(base, email);
    const signIn = await postJson(base, "/api/auth/sign-in/email", { email, password: TEST_PASSWORD });
    const cookie = signIn.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
    expect(cookie).toMatch(/session_token=/);
    expect((await me({ cookie })).status).toBe(401);
    expect(await resolveSessionUser(server.auth, new Headers({ cookie }))).toBeNull();
  });
});

describe("device authorization (RFC 8628)", () => {
  const client_id = "margin-extension";
  const requestCode = async () => {
    const res = await postJson(base, "/api/auth/device/code", { client_id });
    expect(res.status).toBe(200);
    return (await res.json()) as {
      device_code: string;
      user_code: string;
      verification_uri: string;
      interval: number;
    };
  };
  const poll = async (device_code: string) => {
    const res = await postJson(base, "/api/auth/device/token", {
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
      device_code,
      client_id,
    });
    return { status: res.status, body: await res.json() };
  };
  const claim = (userCode: string, headers: Record<string, string>) =>
    fetch(`${base}/api/auth/device?user_code=${encodeURIComponent(userCode)}`, { headers });

  it("issues a code, stays pending, and after approval hands out a working bearer token", async () => {
    const email = newEmail();
    const token = await signUp(base, email, { timezone: "Asia/Tokyo" });
    const code = await requestCode();
    expect(code.verification_uri).toBe(`${base}/device`);
    expect(code.interval).toBe(2);
    expect((await poll(code.device_code)).body.error).toBe("authorization_pending");

    const claimed = await claim(code.user_code, bearer(token));
    expect(await claimed.json()).toMatchObject({ status: "pending", client_id });
    const approved = await postJson(
      base,
      "/api/auth/device/approve",
      { userCode: code.user_code },
      bearer(token),
    );
    expect(approved.status).toBe(200);

    await sleep(code.interval * 1000 + 100);
    const granted = await poll(code.device_code);
    expect(granted.status).toBe(200);
    expect(granted.body.token_type).toBe("Bearer");
    const res = await me(bearer(granted.body.access_token));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ email, timezone: "Asia/Tokyo" });
  });

  it("refuses to approve a code that was not claimed first", async () => {
    const token = await signUp(base, newEmail());
    const code = await requestCode();
    const res = await postJson(base, "/api/auth/device/approve", { userCode: code.user_code }, bearer(token));
    expect(res.status).toBe(400);
  });

  it("denied → the poll returns access_denied", async () => {
    const token = await signUp(base, newEmail());
    const code = await requestCode();
    await claim(code.user_code, bearer(token));
    const denied = await postJson(base, "/api/auth/device/deny", { userCode: code.user_code }, bearer(token));
    expect(denied.status).toBe(200);
    const result = await poll(code.device_code);
    expect(result).toMatchObject({ status: 400, body: { error: "access_denied" } });
  });

  it("expired → the poll returns expired_token and the page's claim says so", async () => {
    const token = await signUp(base, newEmail());
    const code = await requestCode();
    await database.db
      .update(deviceCode)
      .set({ expiresAt: new Date(Date.now() - 60_000) })
      .where(eq(deviceCode.userCode, code.user_code));
    const claimed = await claim(code.user_code, bearer(token));
    expect(claimed.status).toBe(400);
    expect((await claimed.json()).error).toBe("expired_token");
    expect(await poll(code.device_code)).toMatchObject({ status: 400, body: { error: "expired_token" } });
  });

  it("an unknown code is refused", async () => {
    const token = await signUp(base, newEmail());
    const res = await claim("NOSUCHCODE", bearer(token));
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe("invalid_request");
  });

  it("approves with the session cookie the way the /device page does, and checks its Origin", async () => {
    const email = newEmail();
    await signUp(base, email);
    const signIn = await postJson(base, "/api/auth/sign-in/email", { email, password: TEST_PASSWORD });
    const cookie = signIn.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
    const code = await requestCode();
    expect(await (await claim(code.user_code, { cookie })).json()).toMatchObject({ status: "pending" });
    const forged = await postJson(
      base,
      "/api/auth/device/approve",
      { userCode: code.user_code },
      { cookie, origin: "https://evil.example" },
    );
    expect(forged.status).toBe(403);
    const approved = await postJson(
      base,
      "/api/auth/device/approve",
      { userCode: code.user_code },
      { cookie },
    );
    expect(approved.status).toBe(200);
  });
});

describe("the /device page", () => {
  it("renders a self-contained form under a strict CSP", async () => {
    const res = await fetch(`${base}/device`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    const csp = res.headers.get("content-security-policy") ?? "";
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(html).toContain('<form id="device-form" method="post"');
    expect(html).toMatch(/<input id="user_code" name="user_code" value=""/);
    expect(html).toContain('type="password"');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("carries an inline script that parses", async () => {
    const html = await (await fetch(`${base}/device`)).text();
    const script = /<script nonce="[^"]+">([\s\S]*?)<\/script>/.exec(html)?.[1];
    expect(script).toContain('"device?user_code="');
    expect(() => new Script(script ?? "")).not.toThrow();
  });

  it("prefills the user code and HTML-escapes it", async () => {
    const plain = await (await fetch(`${base}/device?user_code=ABCD-EFGH`)).text();
    expect(plain).toContain('value="ABCD-EFGH"');
    const evil = '"><script>alert(1)</script>';
    const html = await (await fetch(`${base}/device?user_code=${encodeURIComponent(evil)}`)).text();
    expect(html).not.toContain("<script>alert(1)");
    expect(html).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
  });

  it("uses a fresh nonce per response", async () => {
    const [a, b] = await Promise.all([fetch(`${base}/device`), fetch(`${base}/device`)]);
    expect(a.headers.get("content-security-policy")).not.toBe(b.headers.get("content-security-policy"));
  });
});

describe("accounts and API keys", () => {
  it("creates users from the server; duplicate emails and bad input are typed errors", async () => {
    const email = newEmail();
    const created = await createUser(server.auth, {
      email: email.toUpperCase(),
      password: TEST_PASSWORD,
      timezone: "Europe/Paris",
    });
    expect(created).toMatchObject({ email, timezone: "Europe/Paris" });
    // The sign-up's implicit session is not left behind.
    const sessions = await database.db.select().from(session).where(eq(session.userId, created.id));
    expect(sessions).toHaveLength(0);
    const signIn = await postJson(base, "/api/auth/sign-in/email", { email, password: TEST_PASSWORD });
    expect(signIn.status).toBe(200);

    await expect(createUser(server.auth, { email, password: TEST_PASSWORD })).rejects.toMatchObject({
      name: "AccountError",
      code: "email_taken",
    });
    await expect(
      createUser(server.auth, { email: newEmail(), password: TEST_PASSWORD, timezone: "Nowhere/Land" }),
    ).rejects.toMatchObject({ code: "invalid_input", message: expect.stringMatching(/IANA/) });
    await expect(createUser(server.auth, { email: newEmail(), password: "short" })).rejects.toBeInstanceOf(
      AccountError,
    );
  });

  it("refuses to create a key for an unknown email", async () => {
    await expect(
      createApiKey(server.auth, database.db, { email: "nobody@example.com" }),
    ).rejects.toMatchObject({
      code: "no_such_user",
    });
  });

  it("creates, resolves, lists and revokes keys, each only ever for its owner", async () => {
    const emailA = newEmail();
    const emailB = newEmail();
    const tokenA = await signUp(base, emailA, { timezone: "Europe/London" });
    const tokenB = await signUp(base, emailB);
    const keyA = await createApiKey(server.auth, database.db, { email: emailA, name: "claude-desktop" });
    const keyB = await createApiKey(server.auth, database.db, { email: emailB });
    expect(keyA).toMatchObject({ name: "claude-desktop", key: expect.stringMatching(/^mgn_/) });
    expect(keyA.start && keyA.key.startsWith(keyA.start)).toBe(true);

    const userA = await resolveApiKeyUser(server.auth, keyA.key);
    const userB = await resolveApiKeyUser(server.auth, keyB.key);
    expect(userA).toMatchObject({ email: emailA, timezone: "Europe/London" });
    expect(userB).toMatchObject({ email: emailB });
    expect(userA?.id).not.toBe(userB?.id);
    // Many uses in a row: the plugin's default 10-a-day limit is off.
    for (let i = 0; i < 12; i++) expect((await resolveApiKeyUser(server.auth, keyA.key))?.id).toBe(userA?.id);

    const listA = await fetch(`${base}/api/auth/api-key/list`, { headers: bearer(tokenA) });
    expect(listA.status).toBe(200);
    const listedText = await listA.text();
    expect(listedText).not.toContain(keyA.key);
    const listed = JSON.parse(listedText) as { apiKeys: { id: string; referenceId: string }[] };
    expect(listed.apiKeys.map((k) => k.id)).toEqual([keyA.id]);
    const listB = (await (
      await fetch(`${base}/api/auth/api-key/list`, { headers: bearer(tokenB) })
    ).json()) as typeof listed;
    expect(listB.apiKeys.map((k) => k.id)).toEqual([keyB.id]);

    const stolen = await postJson(base, "/api/auth/api-key/delete", { keyId: keyA.id }, bearer(tokenB));
    expect(stolen.status).toBe(404);
    expect(await resolveApiKeyUser(server.auth, keyA.key)).toMatchObject({ id: userA?.id });

    const revoked = await postJson(base, "/api/auth/api-key/delete", { keyId: keyA.id }, bearer(tokenA));
    expect(revoked.status).toBe(200);
    expect(await resolveApiKeyUser(server.auth, keyA.key)).toBeNull();
    expect(await resolveApiKeyUser(server.auth, keyB.key)).toMatchObject({ id: userB?.id });
  });

  it("resolves garbage keys to null", async () => {
    for (const key of ["", "mgn_nope", "x".repeat(300)])
      expect(await resolveApiKeyUser(server.auth, key)).toBeNull();
  });

  it("stores API keys only as hashes", async () => {
    const email = newEmail();
    await signUp(base, email);
    const { key } = await createApiKey(server.auth, database.db, { email });
    const rows = await database.db.execute(sql`select count(*)::int as n from apikey where key = ${key}`);
    const n = Array.isArray(rows) ? rows[0]?.n : (rows as { rows: { n: number }[] }).rows[0]?.n;
    expect(n).toBe(0);
  });
});
