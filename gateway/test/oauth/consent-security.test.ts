// The consent page's own defences: CSRF tokens, foreign origins, tampered links, framing, and no code,
// token or password in anything the gateway logs.
import { beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/logger.ts";
import { signUp, TEST_PASSWORD } from "../support/auth.ts";
import { postMcp } from "../support/gateway.ts";
import { gatewayForFile } from "../support/gateway-for-file.ts";
import { createBrowser, hiddenFields, pkcePair } from "./browser.ts";

const lines: string[] = [];
const { gw } = gatewayForFile({
  logger: createLogger("debug", { destination: { write: (line: string) => void lines.push(line) } }),
});
let clientId: string;
const REDIRECT = "http://127.0.0.1:33419/callback";

beforeAll(async () => {
  await signUp(gw.baseUrl, "carol@example.com");
  const res = await fetch(`${gw.baseUrl}/api/auth/oauth2/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      client_name: "Security test client",
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: "none",
    }),
  });
  clientId = (await res.json()).client_id;
});

const authorizeUrl = (challenge: string) =>
  `${gw.baseUrl}/api/auth/oauth2/authorize?${new URLSearchParams({
    response_type: "code",
    client_id: clientId,
    redirect_uri: REDIRECT,
    scope: "tasks offline_access",
    state: "s",
    code_challenge: challenge,
    code_challenge_method: "S256",
    resource: `${gw.baseUrl}/mcp`,
  })}`;

async function signInPage() {
  const browser = createBrowser();
  const start = await browser.navigate(authorizeUrl(pkcePair().challenge));
  const page = await browser.navigate(start.location!);
  expect(page.status).toBe(200);
  return { browser, page, pageUrl: start.location!, fields: hiddenFields(page.body) };
}

const signInForm = (fields: Record<string, string>) => ({
  ...fields,
  action: "sign-in",
  email: "carol@example.com",
  password: TEST_PASSWORD,
});

describe("the consent page", () => {
  it("cannot be framed, cached or leak its address to other sites", async () => {
    const { page } = await signInPage();
    const csp = String(page.headers["content-security-policy"]);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain("script-src");
    expect(page.headers["x-frame-options"]).toBe("DENY");
    expect(page.headers["cache-control"]).toBe("no-store");
    expect(page.headers["referrer-policy"]).toBe("same-origin");
    expect(page.body).not.toContain("<script");
  });

  it("refuses a form without the CSRF token, with another browser's token, or without the cookie", async () => {
    const { browser, fields } = await signInPage();
    const missing = await browser.submit(`${gw.baseUrl}/oauth/consent`, signInForm({ ...fields, csrf: "" }));
    expect(missing.status).toBe(403);

    const other = await signInPage();
    const crossed = await browser.submit(`${gw.baseUrl}/oauth/consent`, signInForm(other.fields));
    expect(crossed.status).toBe(403);

    const cookieless = createBrowser();
    const noCookie = await cookieless.submit(`${gw.baseUrl}/oauth/consent`, signInForm(fields));
    expect(noCookie.status).toBe(403);
    // None of them signed anyone in.
    expect([...browser.cookies.keys()].some((k) => k.includes("session_token"))).toBe(false);
  });

  it("refuses a post from another site's page", async () => {
    const { fields, browser } = await signInPage();
    const res = await fetch(`${gw.baseUrl}/oauth/consent`, {
      method: "POST",
      redirect: "manual",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        origin: "https://evil.example",
        cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join("; "),
      },
      body: new URLSearchParams(signInForm(fields)),
    });
    expect(res.status).toBe(403);
  });

  it("shows an error, not a form, for a tampered or unsigned link", async () => {
    const { browser, pageUrl } = await signInPage();
    const tampered = pageUrl.replace("scope=tasks", "scope=everything");
    const res = await browser.navigate(tampered);
    expect(res.status).toBe(400);
    expect(res.body).toContain("invalid or has expired");
    expect(res.body).not.toContain('name="password"');
    const unsigned = await browser.navigate(`${gw.baseUrl}/oauth/consent?client_id=${clientId}`);
    expect(unsigned.status).toBe(400);
  });

  it("keeps codes, tokens and passwords out of every URL it serves and out of the logs", async () => {
    lines.length = 0;
    const { verifier, challenge } = pkcePair();
    const browser = createBrowser();
    const start = await browser.navigate(authorizeUrl(challenge));
    const page = await browser.navigate(start.location!);
    const signedIn = await browser.submit(`${gw.baseUrl}/oauth/consent`, signInForm(hiddenFields(page.body)));
    expect(signedIn.location?.startsWith(`${gw.baseUrl}/oauth/consent?`)).toBe(true);
    const consent = await browser.navigate(signedIn.location!);
    const allowed = await browser.submit(`${gw.baseUrl}/oauth/consent`, {
      ...hiddenFields(consent.body),
      action: "allow",
    });
    const code = new URL(allowed.location!).searchParams.get("code")!;
    const tokens = await (
      await fetch(`${gw.baseUrl}/api/auth/oauth2/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "authorization_code",
          code,
          redirect_uri: REDIRECT,
          client_id: clientId,
          code_verifier: verifier,
        }),
      })
    ).json();
    expect(tokens.access_token).toEqual(expect.any(String));
    await postMcp(gw, tokens.access_token, { jsonrpc: "2.0", id: 1, method: "tools/list" });

    // Only the final hop to the client carries the code; the gateway's own pages never do.
    for (const url of [start.location!, signedIn.location!]) {
      expect(url).not.toContain(code);
      expect(new URL(url).searchParams.has("code")).toBe(false);
    }
    const sessionCookie = [...browser.cookies].find(([k]) => k.includes("session_token"))?.[1];
    const log = lines.join("\n");
    expect(log).toContain('"path":"/oauth/consent"');
    for (const secret of [
      code,
      tokens.access_token,
      tokens.refresh_token,
      verifier,
      TEST_PASSWORD,
      sessionCookie,
    ]) {
      expect(secret).toBeTruthy();
      expect(log).not.toContain(secret);
    }
  });
});

describe("creating an account on the consent page", () => {
  it("signs a new user up and in, then asks for consent; a taken email does not reveal itself", async () => {
    const { browser, fields } = await signInPage();
    const created = await browser.submit(`${gw.baseUrl}/oauth/consent`, {
      ...fields,
      action: "sign-up",
      email: "new-user@example.com",
      password: "a-long-enough-password",
    });
    expect(created.status).toBe(303);
    const consent = await browser.navigate(created.location!);
    expect(consent.body).toContain("new-user@example.com");
    expect(consent.body).toContain('value="allow"');

    const other = await signInPage();
    const taken = await other.browser.submit(`${gw.baseUrl}/oauth/consent`, {
      ...other.fields,
      action: "sign-up",
      email: "carol@example.com",
      password: "not-carols-password",
    });
    expect(taken.status).toBe(401);
    expect(taken.body).toContain("If you already have an account with this email");

    const short = await other.browser.submit(`${gw.baseUrl}/oauth/consent`, {
      ...other.fields,
      action: "sign-up",
      email: "short@example.com",
      password: "short",
    });
    expect(short.status).toBe(400);
    expect(short.body).toMatch(/password/i);
  });
});
