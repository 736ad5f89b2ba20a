import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { ALLOWED_ORIGIN, call, startMcpHttpHarness, TEST_SECRET, textOf } from "../support/mcp.ts";
import { databaseForFileWith } from "../support/suite.ts";

const { started: mcp } = databaseForFileWith(startMcpHttpHarness);

const ACCEPT = "application/json, text/event-stream";
const rpc = (method: string, params: unknown = {}, id = 1) =>
  JSON.stringify({ jsonrpc: "2.0", id, method, params });

async function post(body: string, headers: Record<string, string> = {}) {
  return fetch(mcp.url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: ACCEPT, ...headers },
    body,
  });
}

describe("over Streamable HTTP", () => {
  it("serves the tools to a real MCP client with a gateway-signed token", async () => {
    const client = await mcp.connect("http-user", "America/New_York");
    // Stateless: no server outlives its request to announce a changed tool list, so none is promised.
    expect(client.getServerCapabilities()?.tools).toEqual({ listChanged: false });
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(
      [
        "add_task",
        "complete_task",
        "delete_task",
        "list_tasks",
        "reopen_task",
        "restore_task",
        "update_task",
      ].sort(),
    );
    const added = await call(client, "add_task", { title: "over http", due: "2099-12-01T09:00" });
    expect(added.structuredContent.task.due).toMatchObject({
      at: "2099-12-01T14:00:00.000Z",
      tz: "America/New_York",
    });
    const listed = await call(client, "list_tasks");
    expect(listed.structuredContent.tasks.map((t: { title: string }) => t.title)).toEqual(["over http"]);
    await client.close();
  });

  it("accepts a tools/call without a session (stateless)", async () => {
    const token = await mcp.token("stateless-user");
    const res = await post(rpc("tools/call", { name: "list_tasks", arguments: {} }), {
      authorization: `Bearer ${token}`,
    });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.result.structuredContent).toEqual({ tasks: [], next_cursor: null });
    expect(res.headers.get("mcp-session-id")).toBeNull();
  });

  it("answers GET and DELETE with 405", async () => {
    const token = await mcp.token("u");
    for (const method of ["GET", "DELETE"]) {
      const res = await fetch(mcp.url, {
        method,
        headers: { authorization: `Bearer ${token}`, accept: ACCEPT },
      });
      expect(res.status).toBe(405);
    }
  });
});

describe("authentication", () => {
  const expectUnauthorized = async (res: Response, description: RegExp) => {
    expect(res.status).toBe(401);
    const challenge = res.headers.get("www-authenticate") ?? "";
    expect(challenge).toMatch(/^Bearer error="invalid_token"/);
    expect(challenge).toContain(
      `resource_metadata="http://127.0.0.1:${mcp.url.port}/.well-known/oauth-protected-resource/mcp"`,
    );
    expect((await res.json()).error_description).toMatch(description);
  };

  it("refuses a request without a token", async () => {
    await expectUnauthorized(await post(rpc("tools/list")), /Missing Authorization/);
  });

  it("refuses a token for another audience", async () => {
    const token = await mcp.token("u", { audience: "http://127.0.0.1:9999/mcp" });
    await expectUnauthorized(
      await post(rpc("tools/list"), { authorization: `Bearer ${token}` }),
      /not issued for this resource/,
    );
  });

  it("refuses an expired token", async () => {
    const token = await mcp.token("u", { ttl: Math.floor(Date.now() / 1000) - 10 });
    await expectUnauthorized(await post(rpc("tools/list"), { authorization: `Bearer ${token}` }), /expired/);
  });

  it("refuses unsigned, wrongly signed and garbage tokens", async () => {
    const header = Buffer.from(JSON.stringify({ alg: "none" })).toString("base64url");
    const payload = Buffer.from(
      JSON.stringify({
        sub: "u",
        aud: mcp.url.href,
        iss: "margin-gateway",
        exp: Math.floor(Date.now() / 1000) + 600,
      }),
    ).toString("base64url");
    const wrongKey = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("u")
      .setAudience(mcp.url.href)
      .setIssuer("margin-gateway")
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode(`${TEST_SECRET}-but-not-quite`));
    for (const token of [`${header}.${payload}.`, wrongKey, "garbage", "a.b.c"]) {
      await expectUnauthorized(
        await post(rpc("tools/list"), { authorization: `Bearer ${token}` }),
        /invalid/i,
      );
    }
  });

  it("publishes RFC 9728 protected-resource metadata", async () => {
    const res = await fetch(new URL("/.well-known/oauth-protected-resource/mcp", mcp.url));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      resource: mcp.url.href,
      authorization_servers: ["http://127.0.0.1:8787/"],
    });
  });
});

describe("DNS rebinding and bad input", () => {
  it("refuses a foreign Host with 403", async () => {
    const { request } = await import("node:http");
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: mcp.url.port,
          path: "/mcp",
          method: "POST",
          headers: { host: "evil.example" },
        },
        (res) => resolve(res.statusCode ?? 0),
      );
      req.on("error", reject);
      req.end(rpc("tools/list"));
    });
    expect(status).toBe(403);
  });

  it("refuses a foreign Origin with 403 and accepts an allowed one", async () => {
    const token = await mcp.token("origin-user");
    const evil = await post(rpc("tools/list"), {
      authorization: `Bearer ${token}`,
      origin: "https://evil.example",
    });
    expect(evil.status).toBe(403);
    const ok = await post(rpc("tools/list"), { authorization: `Bearer ${token}`, origin: ALLOWED_ORIGIN });
    expect(ok.status).toBe(200);
  });

  it("answers malformed JSON with a JSON-RPC parse error", async () => {
    const token = await mcp.token("u");
    const res = await post("{not json", { authorization: `Bearer ${token}` });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe(-32700);
  });

  it("reads JSON bodies as body-parser's strict parser does, however they are sent", async () => {
    const token = await mcp.token("body-user");
    const auth = { authorization: `Bearer ${token}` };
    const call = rpc("tools/call", { name: "list_tasks", arguments: {} });
    const answers = async (res: Response) => ({ status: res.status, body: await res.json() });
    const plain = await answers(await post(call, auth));
    expect(plain.status).toBe(200);
    // A byte-order mark, a charset, whitespace first, and a chunked body (no length): all the same call.
    for (const [body, headers] of [
      [`\uFEFF${call}`, {}],
      [call, { "content-type": "application/json; charset=UTF-8" }],
      [`\n ${call}`, {}],
    ] as const)
      expect(await answers(await post(body, { ...auth, ...headers }))).toEqual(plain);
    const chunked = new Blob([call]).stream();
    const streamed = await fetch(mcp.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: ACCEPT, ...auth },
      body: chunked,
      duplex: "half",
    } as RequestInit);
    expect(await answers(streamed)).toEqual(plain);
    // Strict: JSON that is not an object or an array is a parse error.
    for (const body of ['"tools/call"', " 42", "null"]) {
      const res = await post(body, auth);
      expect(res.status, body).toBe(400);
      expect((await res.json()).error.code, body).toBe(-32700);
    }
  });

  it("answers an oversized body with 413 and keeps serving", async () => {
    const token = await mcp.token("big-user");
    const huge = rpc("tools/call", {
      name: "add_task",
      arguments: { title: "t", notes: "x".repeat(400_000) },
    });
    const res = await post(huge, { authorization: `Bearer ${token}` });
    expect(res.status).toBe(413);
    const after = await post(rpc("tools/call", { name: "list_tasks", arguments: {} }), {
      authorization: `Bearer ${token}`,
    });
    expect(after.status).toBe(200);
  });

  it("answers oversized or mistyped arguments with an isError result that names the problem", async () => {
    const client = await mcp.connect("args-user");
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ["add_task", { title: "t", notes: "x".repeat(10_001) }, /notes: at most 10,000/],
      ["add_task", { title: 42 }, /title/],
      [
        "add_task",
        { title: "t", labels: Array.from({ length: 21 }, (_, i) => `l${i}`) },
        /at most 20 labels/,
      ],
      ["add_task", { title: "t", source: { url: "javascript:alert(1)" } }, /http\(s\) URL/],
      ["list_tasks", { limit: 10_000 }, /limit/],
      ["list_tasks", { status: "archived" }, /status/],
      ["complete_task", {}, /task_id/],
    ];
    for (const [name, args, message] of cases) {
      const result = await call(client, name, args);
      expect(result.isError, `${name} ${JSON.stringify(args).slice(0, 60)}`).toBe(true);
      expect(textOf(result)).toMatch(message);
    }
    expect((await call(client, "list_tasks")).isError).toBeFalsy();
    await client.close();
  });
});
