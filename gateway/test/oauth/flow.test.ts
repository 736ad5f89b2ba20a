// The whole OAuth flow as an MCP client and its user's browser do it, with plain HTTP: registration →
// authorize with PKCE → sign in and consent on the gateway's page → token → tools/call through /mcp →
// refresh → revoke → 401. Then what the authorization server must refuse.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { oauthAccessToken, oauthClient, oauthConsent, oauthRefreshToken } from "../../src/db/oauth-schema.ts";
import { user } from "../../src/db/schema.ts";
import { ACCESS_TOKEN_PREFIX, hashToken } from "../../src/oauth/provider.ts";
import { signIn, signUp, TEST_PASSWORD } from "../support/auth.ts";
import { postMcp } from "../support/gateway.ts";
import { gatewayForFile } from "../support/gateway-for-file.ts";
import { call } from "../support/mcp.ts";
import { type Browser, createBrowser, hiddenFields, pkcePair } from "./browser.ts";

const { database, gw } = gatewayForFile();
let resource: string;
const REDIRECT = "http://127.0.0.1:33418/callback";

beforeAll(async () => {
  resource = `${gw.baseUrl}/mcp`;
  await signUp(gw.baseUrl, "alice@example.com");
});

async function registerClient(name = "Flow test client", redirectUris = [REDIRECT]): Promise<string> {
  const res = await fetch(`${gw.baseUrl}/api/auth/oauth2/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      client_name: name,
      redirect_uris: redirectUris,
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    }),
  });
  expect(res.status).toBe(201);
  return (await res.json()).client_id;
}

function authorizeUrl(clientId: string, challenge: string, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: REDIRECT,
    scope: "tasks offline_access",
    state: "state-123",
    code_challenge: challenge,
    code_challenge_method: "S256",
    resource,
    ...extra,
  });
  return `${gw.baseUrl}/api/auth/oauth2/authorize?${params}`;
}

const token = (params: Record<string, string>) =>
  fetch(`${gw.baseUrl}/api/auth/oauth2/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(params),
  });

/** Exchanges an authorization code at /token as the client that asked for it, with its PKCE verifier. */
const exchangeCode = (clientId: string, code: string, verifier: string, extra: Record<string, string> = {}) =>
  token({
    grant_type: "authorization_code",
    code,
    redirect_uri: REDIRECT,
    client_id: clientId,
    code_verifier: verifier,
    ...extra,
  });

/** Walks a browser from the authorize URL through sign-in (if needed) and Allow to the client's callback. */
async function approve(browser: Browser, url: string, email = "alice@example.com"): Promise<URL> {
  const start = await browser.navigate(url);
  expect(start.status).toBe(302);
  let location = start.location!;
  for (let hop = 0; hop < 4 && location.startsWith(`${gw.baseUrl}/oauth/consent`); hop++) {
    const page = await browser.navigate(location);
    expect(page.status).toBe(200);
    const fields = hiddenFields(page.body);
    const form = page.body.includes('value="sign-in"')
      ? { ...fields, action: "sign-in", email, password: TEST_PASSWORD }
      : { ...fields, action: "allow" };
    const answer = await browser.submit(`${gw.baseUrl}/oauth/consent`, form);
    expect(answer.status).toBe(303);
    location = answer.location!;
  }
  expect(location.startsWith(REDIRECT)).toBe(true);
  return new URL(location);
}

/** Follows the authorize URL to the consent page and signs in there; returns the page that asks to allow. */
async function signInToConsent(browser: Browser, url: string, email = "alice@example.com") {
  const start = await browser.navigate(url);
  const page = await browser.navigate(start.location!);
  const signedIn = await browser.submit(`${gw.baseUrl}/oauth/consent`, {
    ...hiddenFields(page.body),
    action: "sign-in",
    email,
    password: TEST_PASSWORD,
  });
  return browser.navigate(signedIn.location!);
}

async function mcpClient(accessToken: string): Promise<Client> {
  const client = new Client({ name: "oauth-flow-test", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(resource), {
      requestInit: { headers: { authorization: `Bearer ${accessToken}` } },
    }),
  );
  return client;
}

/** tools/list over plain HTTP to /mcp with the token. */
const listTools = (accessToken: string) =>
  postMcp(gw, accessToken, { jsonrpc: "2.0", id: 1, method: "tools/list" });

const mcpStatus = async (accessToken: string) => (await listTools(accessToken)).status;

describe("the OAuth flow for an MCP client", () => {
  it("goes from registration to tools/call, refresh, revoke and back to 401", async () => {
    const clientId = await registerClient();
    const { verifier, challenge } = pkcePair();
    const browser = createBrowser();

    // The consent page: sign-in first, then the client named with what it gets; framing refused.
    const start = await browser.navigate(authorizeUrl(clientId, challenge));
    expect(start.status).toBe(302);
    expect(start.location).toMatch(new RegExp(`^${gw.baseUrl}/oauth/consent\\?`));
    const signInPage = await browser.navigate(start.location!);
    expect(signInPage.status).toBe(200);
    expect(signInPage.body).toContain("Flow test client");
    const csp = String(signInPage.headers["content-security-policy"]);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("form-action 'self' http://127.0.0.1:33418");
    expect(signInPage.headers["x-frame-options"]).toBe("DENY");
    expect(signInPage.headers["cache-control"]).toBe("no-store");

    const signedIn = await browser.submit(`${gw.baseUrl}/oauth/consent`, {
      ...hiddenFields(signInPage.body),
      action: "sign-in",
      email: "alice@example.com",
      password: TEST_PASSWORD,
    });
    expect(signedIn.status).toBe(303);
    const consentPage = await browser.navigate(signedIn.location!);
    expect(consentPage.body).toContain("Connect <strong>Flow test client</strong> to Margin?");
    expect(consentPage.body).toContain("alice@example.com");
    expect(consentPage.body).toContain("See, add, change, complete and delete your tasks");
    expect(consentPage.body).toContain("Stay connected");

    const allowed = await browser.submit(`${gw.baseUrl}/oauth/consent`, {
      ...hiddenFields(consentPage.body),
      action: "allow",
    });
    expect(allowed.status).toBe(303);
    const callback = new URL(allowed.location!);
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT);
    expect(callback.searchParams.get("state")).toBe("state-123");
    expect(callback.searchParams.get("iss")).toBe(`${gw.baseUrl}/api/auth`);
    const code = callback.searchParams.get("code")!;

    const exchanged = await token({
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT,
      client_id: clientId,
      code_verifier: verifier,
      resource,
    });
    expect(exchanged.status).toBe(200);
    const tokens = await exchanged.json();
    expect(tokens).toMatchObject({ token_type: "Bearer", scope: "tasks offline_access" });
    expect(tokens.access_token.startsWith(ACCESS_TOKEN_PREFIX)).toBe(true);
    expect(tokens.refresh_token).toEqual(expect.any(String));

    // tools/call through /mcp acts as alice: the task shows up in her REST list.
    const client = await mcpClient(tokens.access_token);
    const added = await call(client, "add_task", { title: "added over OAuth" });
    expect(added.isError).toBeFalsy();
    await client.close();
    const session = await signIn(gw.baseUrl, "alice@example.com");
    const list = await (await gw.api("/api/tasks", session)).json();
    expect(list.tasks.map((t: { title: string }) => t.title)).toContain("added over OAuth");

    // Refresh: a new access token that works; the first one keeps working until it expires.
    const refreshed = await token({
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token,
      client_id: clientId,
      resource,
    });
    expect(refreshed.status).toBe(200);
    const second = await refreshed.json();
    expect(second.access_token).not.toBe(tokens.access_token);
    expect(await mcpStatus(second.access_token)).toBe(200);

    // Revoke the access token: the next call is a 401 that points at the metadata again.
    const revoked = await fetch(`${gw.baseUrl}/api/auth/oauth2/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: tokens.access_token, client_id: clientId }),
    });
    expect(revoked.status).toBe(200);
    const after = await listTools(tokens.access_token);
    expect(after.status).toBe(401);
    expect(after.headers.get("www-authenticate")).toContain(
      `resource_metadata="${gw.baseUrl}/.well-known/oauth-protected-resource/mcp"`,
    );

    // Revoke the (rotated) refresh token: its access token dies with it, and it cannot be refreshed again.
    const revokeRefresh = await fetch(`${gw.baseUrl}/api/auth/oauth2/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        token: second.refresh_token,
        token_type_hint: "refresh_token",
        client_id: clientId,
      }),
    });
    expect(revokeRefresh.status).toBe(200);
    expect(await mcpStatus(second.access_token)).toBe(401);
    const again = await token({
      grant_type: "refresh_token",
      refresh_token: second.refresh_token,
      client_id: clientId,
    });
    expect(again.status).toBe(400);
    expect((await again.json()).error).toBe("invalid_grant");
  });

  it("remembers consent: the next authorization goes straight back to the client", async () => {
    const clientId = await registerClient("Remembered client");
    const browser = createBrowser();
    await approve(browser, authorizeUrl(clientId, pkcePair().challenge));
    const second = await browser.navigate(authorizeUrl(clientId, pkcePair().challenge));
    expect(second.status).toBe(302);
    expect(second.location?.startsWith(REDIRECT)).toBe(true);
  });

  it("sends access_denied to the client when the user denies", async () => {
    const clientId = await registerClient("Denied client");
    const browser = createBrowser();
    const consent = await signInToConsent(browser, authorizeUrl(clientId, pkcePair().challenge));
    const denied = await browser.submit(`${gw.baseUrl}/oauth/consent`, {
      ...hiddenFields(consent.body),
      action: "deny",
    });
    expect(denied.status).toBe(303);
    const back = new URL(denied.location!);
    expect(back.searchParams.get("error")).toBe("access_denied");
    expect(back.searchParams.get("code")).toBeNull();
  });
});

describe("clients older than the resource parameter", () => {
  it("get a token bound to /mcp when they name no resource", async () => {
    const clientId = await registerClient("No resource");
    const browser = createBrowser();
    const pair = pkcePair();
    const url = new URL(authorizeUrl(clientId, pair.challenge));
    url.searchParams.delete("resource");
    const code = (await approve(browser, url.href)).searchParams.get("code")!;
    const exchanged = await exchangeCode(clientId, code, pair.verifier);
    expect(exchanged.status).toBe(200);
    expect(await mcpStatus((await exchanged.json()).access_token)).toBe(200);
  });
});

describe("what the authorization server refuses", () => {
  it("a reused code, and a wrong verifier", async () => {
    const clientId = await registerClient("Refusals");
    const browser = createBrowser();
    const first = pkcePair();
    const code = (await approve(browser, authorizeUrl(clientId, first.challenge))).searchParams.get("code")!;

    // RFC 6749 §5.2 / RFC 7636 §4.6: 400 invalid_grant (401 is only for a client that failed to authenticate).
    const wrong = await exchangeCode(clientId, code, pkcePair().verifier);
    expect(wrong.status).toBe(400);
    expect((await wrong.json()).error).toBe("invalid_grant");

    // The code was spent by the failed attempt; a fresh one is used once and then refused.
    const second = pkcePair();
    const code2 = (await approve(browser, authorizeUrl(clientId, second.challenge))).searchParams.get(
      "code",
    )!;
    const ok = await exchangeCode(clientId, code2, second.verifier);
    expect(ok.status).toBe(200);
    const { access_token } = await ok.json();
    const reused = await exchangeCode(clientId, code2, second.verifier);
    expect(reused.status).toBe(400);
    expect((await reused.json()).error).toBe("invalid_grant");
    // Replaying a code also revokes what it issued (RFC 9700 §4.5).
    expect(await mcpStatus(access_token)).toBe(401);
  });

  it("a code whose account was deleted before the exchange (400 invalid_grant)", async () => {
    const clientId = await registerClient("Outlived");
    await signUp(gw.baseUrl, "gone-before-exchange@example.com");
    const pair = pkcePair();
    const url = authorizeUrl(clientId, pair.challenge);
    const code = (await approve(createBrowser(), url, "gone-before-exchange@example.com")).searchParams.get(
      "code",
    )!;
    await database.db.delete(user).where(eq(user.email, "gone-before-exchange@example.com"));
    const res = await exchangeCode(clientId, code, pair.verifier);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: "invalid_grant",
      error_description: "The account this code was issued for no longer exists.",
    });
  });

  it("an unregistered redirect URI, without ever redirecting to it", async () => {
    const clientId = await registerClient("Strict redirects");
    const browser = createBrowser();
    for (const redirect of [
      "http://127.0.0.1:33418/elsewhere",
      "https://attacker.example/callback",
      `${REDIRECT}?extra=1`,
    ]) {
      const res = await browser.navigate(
        authorizeUrl(clientId, pkcePair().challenge, { redirect_uri: redirect }),
      );
      expect(res.status).toBe(302);
      expect(res.location?.startsWith(`${gw.baseUrl}/api/auth/error`)).toBe(true);
      expect(new URL(res.location!).searchParams.get("error")).toBe("invalid_redirect");
    }
  });

  it("plain PKCE, and no PKCE at all", async () => {
    const clientId = await registerClient("PKCE rules");
    const browser = createBrowser();
    const { verifier } = pkcePair();
    const plain = await browser.navigate(
      authorizeUrl(clientId, verifier, { code_challenge_method: "plain" }),
    );
    const plainError = new URL(plain.location!);
    expect(plainError.searchParams.get("error")).toBe("invalid_request");
    expect(plainError.searchParams.get("error_description")).toMatch(/S256/);

    const params = new URL(authorizeUrl(clientId, "x"));
    params.searchParams.delete("code_challenge");
    params.searchParams.delete("code_challenge_method");
    const none = await browser.navigate(params.href);
    expect(new URL(none.location!).searchParams.get("error")).toBe("invalid_request");
  });

  it("/mcp to a token without the tasks scope (403 insufficient_scope)", async () => {
    const clientId = await registerClient("Offline only");
    const browser = createBrowser();
    const pair = pkcePair();
    const url = authorizeUrl(clientId, pair.challenge, { scope: "offline_access" });
    const code = (await approve(browser, url)).searchParams.get("code")!;
    const issued = await (await exchangeCode(clientId, code, pair.verifier)).json();
    expect(issued.scope).toBe("offline_access");
    const res = await listTools(issued.access_token);
    expect(res.status).toBe(403);
    expect(res.headers.get("www-authenticate")).toContain('error="insufficient_scope", scope="tasks"');
  });

  it("/mcp to an expired token and to a token of a disabled client", async () => {
    const clientId = await registerClient("Expiring");
    const browser = createBrowser();
    const issue = async () => {
      const pair = pkcePair();
      const code = (await approve(browser, authorizeUrl(clientId, pair.challenge))).searchParams.get("code")!;
      const body = await (await exchangeCode(clientId, code, pair.verifier)).json();
      return body.access_token as string;
    };
    const stored = (t: string) => eq(oauthAccessToken.token, hashToken(t.slice(ACCESS_TOKEN_PREFIX.length)));

    const expiring = await issue();
    expect(await mcpStatus(expiring)).toBe(200);
    await database.db
      .update(oauthAccessToken)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(stored(expiring));
    expect(await mcpStatus(expiring)).toBe(401);

    const live = await issue();
    expect(await mcpStatus(live)).toBe(200);
    await database.db.update(oauthClient).set({ disabled: true }).where(eq(oauthClient.clientId, clientId));
    expect(await mcpStatus(live)).toBe(401);
  });

  it("a token for another resource", async () => {
    const clientId = await registerClient("Other resource");
    const browser = createBrowser();
    // Asking for a resource the gateway does not serve fails at /authorize …
    const other = await browser.navigate(
      authorizeUrl(clientId, pkcePair().challenge, { resource: "https://other.example/mcp" }),
    );
    expect(new URL(other.location!).searchParams.get("error")).toBe("invalid_target");

    // … and at /token, for a code issued for /mcp.
    const pair = pkcePair();
    const code = (await approve(browser, authorizeUrl(clientId, pair.challenge))).searchParams.get("code")!;
    const swapped = await exchangeCode(clientId, code, pair.verifier, {
      resource: "https://other.example/mcp",
    });
    expect(swapped.status).toBe(400);
    expect((await swapped.json()).error).toBe("invalid_target");

    // A live token whose audience is another resource is refused by /mcp (bound here by hand: the
    // gateway never issues one).
    const pair2 = pkcePair();
    const code2 = (await approve(browser, authorizeUrl(clientId, pair2.challenge))).searchParams.get("code")!;
    const issued = await (await exchangeCode(clientId, code2, pair2.verifier)).json();
    expect(await mcpStatus(issued.access_token)).toBe(200);
    await database.db
      .update(oauthAccessToken)
      .set({ resources: ["https://other.example/mcp"] })
      .where(eq(oauthAccessToken.token, hashToken(issued.access_token.slice(ACCESS_TOKEN_PREFIX.length))));
    expect(await mcpStatus(issued.access_token)).toBe(401);
  });
});

describe("connected apps", () => {
  it("lists the user's apps and disconnects one at once, for that user only", async () => {
    const clientId = await registerClient("Disconnect me");
    const browser = createBrowser();
    const pair = pkcePair();
    const code = (await approve(browser, authorizeUrl(clientId, pair.challenge))).searchParams.get("code")!;
    const tokens = await (await exchangeCode(clientId, code, pair.verifier)).json();
    expect(await mcpStatus(tokens.access_token)).toBe(200);

    const alice = await signIn(gw.baseUrl, "alice@example.com");
    const listed = await (await gw.api("/api/oauth/connections", alice)).json();
    const app = listed.connections.find((c: { clientId: string }) => c.clientId === clientId);
    expect(app).toMatchObject({ name: "Disconnect me", scopes: ["tasks", "offline_access"] });
    expect(app.lastTokenAt).toEqual(expect.any(String));

    // Someone else cannot disconnect alice's app.
    const bob = await signUp(gw.baseUrl, "bob-connections@example.com");
    expect((await gw.api(`/api/oauth/connections/${clientId}`, bob, { method: "DELETE" })).status).toBe(404);
    expect(await mcpStatus(tokens.access_token)).toBe(200);

    expect((await gw.api(`/api/oauth/connections/${clientId}`, alice, { method: "DELETE" })).status).toBe(
      204,
    );
    expect(await mcpStatus(tokens.access_token)).toBe(401);
    const refresh = await token({
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token,
      client_id: clientId,
    });
    expect((await refresh.json()).error).toBe("invalid_grant");
    const after = await (await gw.api("/api/oauth/connections", alice)).json();
    expect(after.connections.some((c: { clientId: string }) => c.clientId === clientId)).toBe(false);

    // Connecting again asks the user again.
    const again = await browser.navigate(authorizeUrl(clientId, pkcePair().challenge));
    expect(again.location?.startsWith(`${gw.baseUrl}/oauth/consent?`)).toBe(true);
  });

  it("go with the user: deleting a user deletes their consents and tokens (ON DELETE CASCADE)", async () => {
    await signUp(gw.baseUrl, "leaving@example.com");
    const clientId = await registerClient("Left behind?");
    const browser = createBrowser();
    const pair = pkcePair();
    const consent = await signInToConsent(
      browser,
      authorizeUrl(clientId, pair.challenge),
      "leaving@example.com",
    );
    const allowed = await browser.submit(`${gw.baseUrl}/oauth/consent`, {
      ...hiddenFields(consent.body),
      action: "allow",
    });
    const code = new URL(allowed.location!).searchParams.get("code")!;
    const exchanged = await exchangeCode(clientId, code, pair.verifier);
    expect(exchanged.status).toBe(200);

    const [gone] = await database.db
      .delete(user)
      .where(eq(user.email, "leaving@example.com"))
      .returning({ id: user.id });
    for (const table of [oauthConsent, oauthAccessToken, oauthRefreshToken]) {
      const left = await database.db.select({ id: table.id }).from(table).where(eq(table.userId, gone!.id));
      expect(left).toEqual([]);
    }
  });
});
