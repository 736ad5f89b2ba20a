// Discovery and registration as an MCP client does them with plain fetch (MCP authorization spec):
// 401 from /mcp → protected-resource metadata (RFC 9728) → authorization-server metadata (RFC 8414) → RFC 7591.
import { describe, expect, it } from "vitest";
import { signUp } from "../support/auth.ts";
import { createTestDatabase } from "../support/database.ts";
import { postMcp, startGatewayHarness } from "../support/gateway.ts";
import { gatewayForFile } from "../support/gateway-for-file.ts";

const { gw } = gatewayForFile();

const register = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${gw.baseUrl}/api/auth/oauth2/register`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });

describe("OAuth discovery", () => {
  it("leads from a 401 on /mcp to the gateway's own authorization server", async () => {
    const unauthorized = await postMcp(gw, undefined, { jsonrpc: "2.0", id: 1, method: "tools/list" });
    expect(unauthorized.status).toBe(401);
    const challenge = unauthorized.headers.get("www-authenticate") ?? "";
    const resourceMetadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
    expect(resourceMetadataUrl).toBe(`${gw.baseUrl}/.well-known/oauth-protected-resource/mcp`);

    const resource = await (await fetch(resourceMetadataUrl!)).json();
    expect(resource).toMatchObject({
      resource: `${gw.baseUrl}/mcp`,
      authorization_servers: [`${gw.baseUrl}/api/auth`],
      scopes_supported: ["tasks", "offline_access"],
    });

    // RFC 8414 §3: the issuer's path goes after the well-known prefix.
    const issuer = new URL(resource.authorization_servers[0]);
    const metadataRes = await fetch(
      `${issuer.origin}/.well-known/oauth-authorization-server${issuer.pathname}`,
    );
    expect(metadataRes.status).toBe(200);
    const metadata = await metadataRes.json();
    expect(metadata).toMatchObject({
      issuer: `${gw.baseUrl}/api/auth`,
      authorization_endpoint: `${gw.baseUrl}/api/auth/oauth2/authorize`,
      token_endpoint: `${gw.baseUrl}/api/auth/oauth2/token`,
      registration_endpoint: `${gw.baseUrl}/api/auth/oauth2/register`,
      revocation_endpoint: `${gw.baseUrl}/api/auth/oauth2/revoke`,
      code_challenge_methods_supported: ["S256"],
      response_types_supported: ["code"],
    });
    expect(metadata.grant_types_supported).toEqual(["authorization_code", "refresh_token"]);
    expect(metadata.token_endpoint_auth_methods_supported).toContain("none");

    // Clients that skip the resource metadata look at the root.
    const root = await (await fetch(`${gw.baseUrl}/.well-known/oauth-authorization-server`)).json();
    expect(root.issuer).toBe(metadata.issuer);
  });

  it("lets browser-based clients read metadata and register from their own origin (CORS)", async () => {
    const origin = "http://localhost:6274";
    const preflight = await fetch(`${gw.baseUrl}/api/auth/oauth2/register`, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    const metadata = await fetch(`${gw.baseUrl}/.well-known/oauth-protected-resource/mcp`, {
      headers: { origin },
    });
    expect(metadata.status).toBe(200);
    expect(metadata.headers.get("access-control-allow-origin")).toBe("*");
    // The rest of the gateway still refuses foreign origins.
    expect((await fetch(`${gw.baseUrl}/api/tasks`, { headers: { origin } })).status).toBe(403);
  });
});

describe("dynamic client registration (RFC 7591)", () => {
  it("registers a public loopback client the way MCP clients send it", async () => {
    const res = await register(
      {
        client_name: "Test MCP client",
        redirect_uris: ["http://127.0.0.1:33418/callback"],
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: "none",
        scope: "tasks offline_access",
      },
      { origin: "http://localhost:6274" },
    );
    expect(res.status).toBe(201);
    const client = await res.json();
    expect(client.client_id).toEqual(expect.any(String));
    expect(client.client_secret).toBeUndefined();
    expect(client.redirect_uris).toEqual(["http://127.0.0.1:33418/callback"]);
    expect(client.application_type).toBe("native");
  });

  it("keeps web clients to https redirect URIs and refuses unusable ones", async () => {
    const web = await register({
      client_name: "Hosted connector",
      redirect_uris: ["https://connector.example.com/oauth/callback"],
      token_endpoint_auth_method: "none",
    });
    expect(web.status).toBe(201);
    expect((await web.json()).application_type).toBe("web");

    const plainHttp = await register({
      client_name: "Insecure",
      redirect_uris: ["http://connector.example.com/callback"],
      token_endpoint_auth_method: "none",
    });
    expect(plainHttp.status).toBe(400);
    expect((await plainHttp.json()).error).toBe("invalid_redirect_uri");
  });

  it("limits registrations per client address (no account is needed to register)", async () => {
    // Limits are counted in the database, shared by every instance: a database of its own starts at zero.
    const own = await createTestDatabase();
    const limited = await startGatewayHarness(own, {
      throttle: { clientRegistrationsPerIp: 2, signUpsPerIp: 1e6, deviceCodesPerIp: 1e6 },
    });
    try {
      const attempt = () =>
        fetch(`${limited.baseUrl}/api/auth/oauth2/register`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            client_name: "Flood",
            redirect_uris: ["http://127.0.0.1:1/callback"],
            token_endpoint_auth_method: "none",
          }),
        });
      expect((await attempt()).status).toBe(201);
      expect((await attempt()).status).toBe(201);
      const third = await attempt();
      expect(third.status).toBe(429);
      expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);
    } finally {
      await limited.close();
      await own.destroy();
    }
  });

  it("keeps better-auth's client-management endpoints closed to signed-in users", async () => {
    const token = await signUp(gw.baseUrl, "manager@example.com");
    const list = await gw.api("/api/auth/oauth2/get-clients", token);
    expect(list.status).toBe(401);
    const update = await gw.api("/api/auth/oauth2/update-client", token, {
      method: "POST",
      headers: { origin: gw.baseUrl },
      body: JSON.stringify({ client_id: "anything", update: { client_name: "renamed" } }),
    });
    expect(update.status).toBe(401);
  });
});
