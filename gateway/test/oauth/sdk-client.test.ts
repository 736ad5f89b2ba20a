// The MCP TypeScript SDK's own OAuth client (client/auth.js) against the gateway: the code real MCP clients
// run. Only the user's part is scripted: the SDK's "open this URL in a browser" goes to the test browser,
// which signs in and allows on the consent page, and hands the code back as a redirect handler would.
import { auth, type OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from "@modelcontextprotocol/sdk/shared/auth.js";
import { beforeAll, describe, expect, it } from "vitest";
import { signUp, TEST_PASSWORD } from "../support/auth.ts";
import { gatewayForFile } from "../support/gateway-for-file.ts";
import { call } from "../support/mcp.ts";
import { createBrowser, hiddenFields } from "./browser.ts";

const { gw } = gatewayForFile();
const REDIRECT = "http://127.0.0.1:33420/oauth/callback";

beforeAll(async () => {
  await signUp(gw.baseUrl, "dana@example.com");
});

/** An in-memory OAuthClientProvider, as a desktop MCP client keeps one on disk. */
class MemoryProvider implements OAuthClientProvider {
  client?: OAuthClientInformationMixed;
  saved?: OAuthTokens;
  verifier = "";
  /** Where the SDK sent the user; the test walks it in the browser. */
  authorizationUrl?: URL;

  get redirectUrl() {
    return REDIRECT;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: "SDK test client",
      redirect_uris: [REDIRECT],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.client = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

/** The user's part: sign in and allow in a browser; returns the code the redirect handler would receive. */
async function userApproves(url: URL): Promise<string> {
  const browser = createBrowser();
  let location = (await browser.navigate(url.href)).location!;
  while (location.startsWith(`${gw.baseUrl}/oauth/consent`)) {
    const page = await browser.navigate(location);
    expect(page.status).toBe(200);
    const form = page.body.includes('value="sign-in"')
      ? { ...hiddenFields(page.body), action: "sign-in", email: "dana@example.com", password: TEST_PASSWORD }
      : { ...hiddenFields(page.body), action: "allow" };
    location = (await browser.submit(`${gw.baseUrl}/oauth/consent`, form)).location!;
  }
  const callback = new URL(location);
  expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT);
  return callback.searchParams.get("code")!;
}

describe("the MCP SDK's OAuth client", () => {
  it("discovers, registers, authorizes, calls tools, and refreshes on its own", async () => {
    const serverUrl = new URL("/mcp", gw.baseUrl);
    const provider = new MemoryProvider();

    // A client without tokens gets a 401, then runs the SDK's auth flow from it.
    const transport = new StreamableHTTPClientTransport(serverUrl, { authProvider: provider });
    const client = new Client({ name: "sdk-oauth-test", version: "1.0.0" });
    await expect(client.connect(transport)).rejects.toThrow(/Unauthorized/i);
    expect(provider.client?.client_id).toEqual(expect.any(String)); // registered dynamically
    expect(provider.authorizationUrl?.href).toContain(`${gw.baseUrl}/api/auth/oauth2/authorize?`);
    expect(provider.authorizationUrl?.searchParams.get("resource")).toBe(serverUrl.href);
    expect(provider.authorizationUrl?.searchParams.get("code_challenge_method")).toBe("S256");

    const code = await userApproves(provider.authorizationUrl!);
    await transport.finishAuth(code);
    expect(provider.saved?.access_token).toMatch(/^margin_at_/);
    expect(provider.saved?.refresh_token).toEqual(expect.any(String));

    const connected = new Client({ name: "sdk-oauth-test", version: "1.0.0" });
    await connected.connect(new StreamableHTTPClientTransport(serverUrl, { authProvider: provider }));
    const added = await call(connected, "add_task", { title: "from the SDK client" });
    expect(added.isError).toBeFalsy();
    const listed = await call(connected, "list_tasks", {});
    expect(JSON.stringify(listed.structuredContent)).toContain("from the SDK client");
    await connected.close();

    // With a refresh token stored, the SDK's auth() refreshes instead of sending the user back.
    const before = provider.saved!.access_token;
    provider.authorizationUrl = undefined;
    expect(await auth(provider, { serverUrl })).toBe("AUTHORIZED");
    expect(provider.saved!.access_token).not.toBe(before);
    expect(provider.authorizationUrl).toBeUndefined();
    const again = new Client({ name: "sdk-oauth-test", version: "1.0.0" });
    await again.connect(new StreamableHTTPClientTransport(serverUrl, { authProvider: provider }));
    expect((await again.listTools()).tools.length).toBeGreaterThan(0);
    await again.close();
  });
});
