// Issue 12 item 8: no raw session tokens handed out or accepted; sessions listed and revoked by id.
import { describe, expect, it } from "vitest";
import { bearer, postJson, signIn, signUp, TEST_PASSWORD } from "../support/auth.ts";
import { gatewayForFile } from "../support/gateway-for-file.ts";

const { gw } = gatewayForFile();

const rawOf = (signed: string) => decodeURIComponent(signed).split(".")[0]!;
const listSessions = (token: string) =>
  fetch(`${gw.baseUrl}/api/auth/list-sessions`, { headers: bearer(token) });

describe("bearer tokens", () => {
  it("accepts only the signed form: a raw token (as a database copy or old log holds it) is refused", async () => {
    const token = await signUp(gw.baseUrl, "raw@example.com");
    expect((await gw.api("/api/tasks", token)).status).toBe(200);
    const raw = await gw.api("/api/tasks", rawOf(token));
    expect(raw.status).toBe(401);
    expect((await raw.json()).error.code).toBe("unauthorized");
  });

  it("hands out only tokens that work: sign-in's body token is the signed one too", async () => {
    await signUp(gw.baseUrl, "body-token@example.com");
    const res = await postJson(gw.baseUrl, "/api/auth/sign-in/email", {
      email: "body-token@example.com",
      password: TEST_PASSWORD,
    });
    const { token } = (await res.json()) as { token: string };
    expect((await gw.api("/api/tasks", token)).status).toBe(200);
  });
});

describe("list-sessions and revoke-session", () => {
  it("lists ids, devices and times, never a token", async () => {
    const laptop = await signUp(gw.baseUrl, "lister@example.com");
    const phone = await signIn(gw.baseUrl, "lister@example.com");
    const res = await listSessions(laptop);
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const t of [laptop, phone]) {
      expect(text).not.toContain(rawOf(t));
    }
    const sessions = JSON.parse(text) as Record<string, unknown>[];
    expect(sessions).toHaveLength(2);
    for (const s of sessions) {
      expect(Object.keys(s).sort()).toEqual(
        ["createdAt", "current", "expiresAt", "id", "ipAddress", "updatedAt", "userAgent"].sort(),
      );
    }
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
  });

  it("revokes another of my sessions by id; that token stops working at once", async () => {
    const laptop = await signUp(gw.baseUrl, "revoker@example.com");
    const phone = await signIn(gw.baseUrl, "revoker@example.com");
    const sessions = (await (await listSessions(laptop)).json()) as { id: string; current: boolean }[];
    const other = sessions.find((s) => !s.current)!;
    const res = await postJson(gw.baseUrl, "/api/auth/revoke-session", { id: other.id }, bearer(laptop));
    expect(res.status).toBe(200);
    expect((await gw.api("/api/tasks", phone)).status).toBe(401);
    expect((await gw.api("/api/tasks", laptop)).status).toBe(200);
  });

  it("refuses raw tokens and other users' session ids", async () => {
    const alice = await signUp(gw.baseUrl, "revoke-alice@example.com");
    const bob = await signUp(gw.baseUrl, "revoke-bob@example.com");
    const byToken = await postJson(
      gw.baseUrl,
      "/api/auth/revoke-session",
      { token: rawOf(bob) },
      bearer(alice),
    );
    expect(byToken.status).toBe(400);
    expect((await byToken.json()).error.code).toBe("invalid_session_id");
    const [bobSession] = (await (await listSessions(bob)).json()) as { id: string }[];
    const foreign = await postJson(
      gw.baseUrl,
      "/api/auth/revoke-session",
      { id: bobSession!.id },
      bearer(alice),
    );
    expect(foreign.status).toBe(404);
    expect((await gw.api("/api/tasks", bob)).status).toBe(200);
  });
});
