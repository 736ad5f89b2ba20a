// Issue 12 item 1: bounded bodies on every route (auth included) and bounded user fields.
import { request } from "node:http";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { AUTH_BODY_LIMIT_BYTES } from "../../src/auth/routes.ts";
import { user } from "../../src/db/schema.ts";
import { postJson, signUp } from "../support/auth.ts";
import { gatewayForFile } from "../support/gateway-for-file.ts";

const { database, gw } = gatewayForFile();

const expectTooLarge = async (res: Response) => {
  expect(res.status).toBe(413);
  expect((await res.json()).error).toMatchObject({ code: "payload_too_large", message: expect.any(String) });
};

describe("body limits", () => {
  it("refuses a 50 KB sign-up with 413 in the API's shape, storing nothing", async () => {
    const email = "huge-name@example.com";
    const res = await postJson(gw.baseUrl, "/api/auth/sign-up/email", {
      email,
      password: "correct-horse-battery",
      name: "n".repeat(50_000),
    });
    await expectTooLarge(res);
    expect(await database.db.select().from(user).where(eq(user.email, email))).toEqual([]);
  });

  it("names the auth limit, whatever the size: 20 KB and 2 MB bodies alike", async () => {
    for (const size of [20_000, 2_000_000]) {
      const res = await postJson(gw.baseUrl, "/api/auth/sign-up/email", {
        email: "too-big@example.com",
        password: "correct-horse-battery",
        name: "n".repeat(size),
      });
      expect(res.status).toBe(413);
      expect((await res.json()).error.message).toBe(
        `The request body is larger than ${AUTH_BODY_LIMIT_BYTES} bytes.`,
      );
    }
  });

  it("refuses an oversized update-user body from a signed-in user", async () => {
    const token = await signUp(gw.baseUrl, "big-image@example.com");
    const res = await postJson(
      gw.baseUrl,
      "/api/auth/update-user",
      { image: `https://example.com/${"i".repeat(5_000_000)}` },
      { authorization: `Bearer ${token}` },
    );
    await expectTooLarge(res);
  });

  it("bounds the REST API, the MCP proxy, and routes that take no body at all", async () => {
    const token = await signUp(gw.baseUrl, "bodies@example.com");
    await expectTooLarge(
      await gw.api("/api/tasks", token, {
        method: "POST",
        body: JSON.stringify({ title: "t", notes: "x".repeat(200_000) }),
      }),
    );
    await expectTooLarge(
      await fetch(`${gw.baseUrl}/mcp`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer mgn_x" },
        body: "x".repeat(2_000_000),
      }),
    );
    // A declared length past the gateway-wide cap is refused before anything reads it.
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${gw.baseUrl}/healthz`, {
        method: "POST",
        headers: { "content-length": String(500 * 1024 * 1024) },
      });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.write("x".repeat(1024));
    });
    expect(status).toBe(413);
  });
});

describe("user fields", () => {
  const signUpWith = (fields: Record<string, unknown>) =>
    postJson(gw.baseUrl, "/api/auth/sign-up/email", { password: "correct-horse-battery", ...fields });

  it("keeps names to 100 characters", async () => {
    const long = await signUpWith({ email: "long-name@example.com", name: "n".repeat(101) });
    expect(long.status).toBe(400);
    expect((await long.json()).error).toMatchObject({
      code: "invalid_user_field",
      message: expect.stringMatching(/100 characters/),
    });
    expect((await signUpWith({ email: "ok-name@example.com", name: "n".repeat(100) })).status).toBe(200);
  });

  it("takes only an http(s) URL of at most 2 KB as the image, on sign-up and update-user", async () => {
    const token = await signUp(gw.baseUrl, "image@example.com");
    const update = (image: unknown) =>
      postJson(gw.baseUrl, "/api/auth/update-user", { image }, { authorization: `Bearer ${token}` });
    for (const bad of [
      `https://example.com/${"a".repeat(2100)}`,
      "javascript:alert(1)",
      "data:image/png;base64,AAAA",
    ]) {
      const res = await update(bad);
      expect(res.status, bad.slice(0, 30)).toBe(400);
      expect((await res.json()).error.code).toBe("invalid_user_field");
    }
    expect((await update("https://example.com/me.png")).status).toBe(200);
    const onSignUp = await signUpWith({
      email: "image-signup@example.com",
      name: "x",
      image: `https://example.com/${"a".repeat(2100)}`,
    });
    expect(onSignUp.status).toBe(400);
  });

  it("takes only IANA zone names as the time zone", async () => {
    for (const timezone of ["+01:00", "Mars/Olympus", "x".repeat(100)]) {
      const res = await signUpWith({ email: `tz-${timezone.length}@example.com`, name: "x", timezone });
      expect(res.status, timezone).toBe(400);
      expect((await res.json()).error.message).toMatch(/IANA time zone/);
    }
  });
});

describe("text Postgres can't store, on the auth endpoints", () => {
  // A NUL made Postgres refuse the query, which read as "sign-in unavailable" (503, retry) or, on sign-up,
  // as 422 for a new email but 200 for a taken one: an account oracle.
  const expectRefused = async (res: Response, where: string) => {
    expect(res.status, where).toBe(400);
    expect((await res.json()).error, where).toMatchObject({
      code: "invalid_text",
      message: expect.stringMatching(/NUL character or broken Unicode/),
    });
  };

  it("answers 400 alike for new and taken emails, and stores nothing", async () => {
    await signUp(gw.baseUrl, "taken-nul@example.com");
    for (const email of ["taken-nul@example.com", "new-nul@example.com"]) {
      for (const name of ["a\u0000b", "a\ud800b"]) {
        const res = await postJson(gw.baseUrl, "/api/auth/sign-up/email", {
          email,
          password: "correct-horse-battery",
          name,
        });
        await expectRefused(res, `${email} ${JSON.stringify(name)}`);
      }
    }
    expect(await database.db.select().from(user).where(eq(user.email, "new-nul@example.com"))).toEqual([]);
  });

  it("answers 400, not 503, on the other endpoints, in bodies, forms and query strings", async () => {
    const token = await signUp(gw.baseUrl, "nul-user@example.com");
    const auth = { authorization: `Bearer ${token}` };
    const posts: [string, unknown][] = [
      ["/api/auth/update-user", { name: "a\u0000" }],
      ["/api/auth/device/code", { client_id: "a\u0000b" }],
      ["/api/auth/revoke-session", { id: "a\u0000b" }],
      ["/api/auth/api-key/create", { name: "k\u0000" }],
    ];
    for (const [path, body] of posts) await expectRefused(await postJson(gw.baseUrl, path, body, auth), path);
    // OAuth endpoints answer as RFC 7591/6749 say.
    const register = await postJson(gw.baseUrl, "/api/auth/oauth2/register", {
      redirect_uris: ["http://127.0.0.1:9/cb"],
      client_name: "a\u0000",
      token_endpoint_auth_method: "none",
    });
    expect(register.status).toBe(400);
    expect((await register.json()).error).toBe("invalid_request");
    const form = await fetch(`${gw.baseUrl}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: gw.baseUrl },
      body: "email=nul-user%00@example.com&password=x",
    });
    await expectRefused(form, "form");
    for (const path of ["/api/auth/api-key/get?id=%00", "/api/auth/device?user_code=%00"]) {
      await expectRefused(await fetch(gw.baseUrl + path, { headers: auth }), path);
    }
    // The session and its user are untouched.
    expect((await fetch(`${gw.baseUrl}/api/auth/get-session`, { headers: auth })).status).toBe(200);
  });
});
