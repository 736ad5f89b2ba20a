import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { describe, expect, it, vi } from "vitest";
import { verifyMcpToken } from "../src/mcp-server/token.ts";
import { MARGIN_BIN, marginCliForFile } from "./support/cli.ts";
import { call } from "./support/mcp.ts";

// A safety net only: on this shared machine a first migration of PGlite has taken over a minute.
const cli = marginCliForFile("cli", { timeoutMs: 180_000 });
const { margin } = cli;
const run = promisify(execFile);

/** stdio serves only an existing account (test/mcp/stdio.test.ts): make one. */
async function stdioUserId(): Promise<string> {
  const created = await margin(["user", "create", "--email", "stdio@example.com"], {
    MARGIN_PASSWORD: "long-enough-pw",
  });
  return JSON.parse(created.stdout).id;
}

async function fails(args: string[], extra: Record<string, string> = {}) {
  try {
    await margin(args, extra);
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
  throw new Error(`margin ${args.join(" ")} succeeded`);
}

/** Spawns `margin <args>` and resolves once its log says `ready`; `stop()` sends SIGTERM and returns the exit code. */
async function serve(args: string[], extra: Record<string, string>, ready: string) {
  const child = spawn(process.execPath, [MARGIN_BIN, ...args], {
    env: { ...cli.env, ...extra, LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  await new Promise<void>((resolve, reject) => {
    // Generous: a fresh embedded database runs every migration first, on a machine shared by many test runs.
    const timer = setTimeout(() => reject(new Error(`margin ${args.join(" ")} did not start`)), 90_000);
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk;
      if (out.includes(ready)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => reject(new Error(`margin ${args.join(" ")} exited with ${code}`)));
  });
  return {
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      child.kill(signal);
      if (child.exitCode === null) await new Promise((resolve) => child.once("exit", resolve));
      return child.exitCode;
    },
  };
}

const freePort = () => 20000 + Math.floor(Math.random() * 20000);

// Each test starts real `margin` processes (TypeScript load, migrations): slow on a busy machine.
describe("margin CLI", { timeout: 360_000 }, () => {
  it("prints a signed MCP token for a user and zone", async () => {
    const { stdout } = await margin([
      "mcp-token",
      "--user-id",
      "cli-user",
      "--tz",
      "Asia/Tokyo",
      "--ttl",
      "2m",
    ]);
    const subject = await verifyMcpToken(cli.secret, stdout.trim(), "http://127.0.0.1:8788/mcp");
    expect(subject).toMatchObject({ userId: "cli-user", tz: "Asia/Tokyo" });
    expect(subject.expiresAt - Date.now() / 1000).toBeLessThanOrEqual(120);
  });

  it("explains bad arguments and bad configuration instead of crashing", async () => {
    const noUser = await fails(["mcp-token"]);
    expect(noUser.code).toBe(2);
    expect(noUser.stderr).toMatch(/--user-id/);
    const badZone = await fails(["mcp-token", "--user-id", "u", "--tz", "Mars/Base"]);
    expect(badZone.stderr).toMatch(/IANA time zone/);
    const badPort = await fails(["migrate"], { MCP_PORT: "eighty" });
    expect(badPort.code).toBe(1);
    expect(badPort.stderr).toMatch(/Invalid configuration:\n\s+MCP_PORT/);
    expect(badPort.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace
    const noSecret = await fails(["mcp-token", "--user-id", "u"], {
      DATABASE_URL: "postgres://postgres@127.0.0.1:5432/postgres",
      MCP_TOKEN_SECRET: "",
      BETTER_AUTH_SECRET: "",
    });
    expect(noSecret.stderr).toMatch(/MCP_TOKEN_SECRET: required when DATABASE_URL is set/);
    expect(noSecret.stderr).not.toMatch(/BETTER_AUTH_SECRET/);
    const unknown = await fails(["frobnicate"]);
    expect(unknown.code).toBe(2);
  });

  it("applies migrations, and again without harm, with no secrets at all", async () => {
    const fresh = mkdtempSync(path.join(tmpdir(), "margin-cli-migrate-"));
    try {
      const noSecrets = { DATA_DIR: fresh, MCP_TOKEN_SECRET: "", BETTER_AUTH_SECRET: "" };
      expect((await margin(["migrate"], noSecrets)).stdout).toMatch(/Migrations applied/);
      expect((await margin(["migrate"], noSecrets)).stdout).toMatch(/Migrations applied/);
      // Nothing generated for a command that signs nothing.
      expect(existsSync(path.join(fresh, "secrets.json"))).toBe(false);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it("asks each command only for the secrets it uses, and lists them in its help", async () => {
    const postgresOnly = {
      DATABASE_URL: "postgres://postgres@127.0.0.1:5432/postgres",
      BETTER_AUTH_SECRET: "",
    };
    const { stdout } = await margin(["mcp-token", "--user-id", "u"], postgresOnly);
    expect(stdout.trim()).toMatch(/^ey/);
    const mcpHelp = (await margin(["mcp", "--help"], { MCP_PORT: "not a port" })).stdout;
    expect(mcpHelp).toMatch(/^Usage: margin mcp \[--stdio\]/);
    expect(mcpHelp).toMatch(/^ {2}MCP_TOKEN_SECRET +signing key .*required with DATABASE_URL/m);
    expect(mcpHelp).toMatch(/^ {2}MARGIN_USER_ID /m);
    expect(mcpHelp).not.toMatch(/BETTER_AUTH_SECRET|EXTENSION_ORIGINS/);
    const migrateHelp = (await margin(["migrate", "-h"])).stdout;
    expect(migrateHelp).toMatch(/DATABASE_URL/);
    expect(migrateHelp).not.toMatch(/SECRET/);
    expect((await margin(["start", "--help"])).stdout).toMatch(
      /BETTER_AUTH_SECRET[\s\S]*MCP_TOKEN_SECRET|MCP_TOKEN_SECRET[\s\S]*BETTER_AUTH_SECRET/,
    );
  });

  it("serves the tools over stdio to the user named in the environment, with no token secret", async () => {
    const { MCP_TOKEN_SECRET: _, ...withoutSecret } = cli.env;
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [MARGIN_BIN, "mcp", "--stdio"],
      env: { ...withoutSecret, MARGIN_USER_ID: await stdioUserId(), MARGIN_TZ: "Europe/Berlin" },
      stderr: "pipe",
    });
    const client = new Client({ name: "cli-test", version: "1.0.0" });
    await client.connect(transport);
    try {
      const added = await call(client, "add_task", { title: "from stdio", due: "2099-12-24T18:00" });
      expect(added.structuredContent.task.due).toMatchObject({
        at: "2099-12-24T17:00:00.000Z",
        tz: "Europe/Berlin",
      });
      const listed = await call(client, "list_tasks");
      expect(listed.structuredContent.tasks.map((t: { title: string }) => t.title)).toEqual(["from stdio"]);
    } finally {
      await client.close();
    }
  });

  it("serves the tools over HTTP to holders of a token from mcp-token", async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const mcpUrl = `http://127.0.0.1:${port}/mcp`;
    // Tasks belong to an account: the token names a real one. Created first: with the embedded database the
    // running server owns the data folder, and a second margin process is refused.
    const created = await margin(["user", "create", "--email", "http-cli@example.com"], {
      MARGIN_PASSWORD: "long-enough-pw",
    });
    // A standalone MCP server needs only its token secret.
    const server = await serve(
      ["mcp"],
      { MCP_PORT: String(port), MCP_URL: mcpUrl, BETTER_AUTH_SECRET: "" },
      "MCP server listening",
    );
    try {
      const token = (
        await margin(["mcp-token", "--user-id", JSON.parse(created.stdout).id], { MCP_URL: mcpUrl })
      ).stdout.trim();
      const client = new Client({ name: "cli-test", version: "1.0.0" });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(mcpUrl), {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      const added = await call(client, "add_task", { title: "via margin mcp" });
      expect(added.isError).toBeFalsy();
      await client.close();
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it("creates users and API keys, and refuses a duplicate email", async () => {
    const { stdout } = await margin([
      "user",
      "create",
      "--email",
      "cli@example.com",
      "--password",
      "long-enough-pw",
      "--tz",
      "Europe/Paris",
    ]);
    expect(JSON.parse(stdout)).toMatchObject({ email: "cli@example.com", timezone: "Europe/Paris" });
    const duplicate = await fails([
      "user",
      "create",
      "--email",
      "cli@example.com",
      "--password",
      "long-enough-pw",
    ]);
    expect(duplicate.stderr).toMatch(/already/i);
    const key = await margin(["api-key", "create", "--email", "cli@example.com", "--name", "desktop"]);
    expect(key.stdout.trim()).toMatch(/^mgn_\w{20,}$/);
    expect(key.stderr).toMatch(/shown only once/);
    const unknown = await fails(["api-key", "create", "--email", "nobody@example.com"]);
    expect(unknown.stderr).toMatch(/nobody@example.com/);
  });

  it("says in one line which Node and pnpm to use, before anything else runs", async () => {
    const checkNode = fileURLToPath(new URL("../bin/check-node.js", import.meta.url));
    const asIf = async (nodeVersion: string, extra: Record<string, string> = {}) => {
      const script = `Object.defineProperty(process.versions, "node", { value: "${nodeVersion}" }); await import(${JSON.stringify(checkNode)});`;
      try {
        await run(process.execPath, ["--input-type=module", "-e", script], { env: { ...cli.env, ...extra } });
        return { code: 0, stderr: "" };
      } catch (err) {
        return err as { code: number; stderr: string };
      }
    };
    const old = await asIf("20.20.2");
    expect(old.code).toBe(1);
    expect(old.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/Node 20\.20\.2 is not supported.*Node 22/),
    ]);
    expect((await asIf("22.18.0")).code).toBe(0);
    const npmInstall = await asIf("22.20.0", {
      npm_lifecycle_event: "preinstall",
      npm_config_user_agent: "npm/10.9.2 node/v22.20.0 linux x64",
    });
    expect(npmInstall.stderr).toMatch(/install with pnpm 12 \(found npm\/10\.9\.2\)/);
    const pnpmInstall = await asIf("22.20.0", {
      npm_lifecycle_event: "preinstall",
      npm_config_user_agent: "pnpm/12.21.0 npm/? node/v22.20.0 linux x64",
    });
    expect(pnpmInstall.code).toBe(0);
  });

  it("takes the password from MARGIN_PASSWORD or a prompt, never needs it on the command line", async () => {
    const created = await margin(["user", "create", "--email", "Quiet@Example.com", "--tz", "Asia/Tokyo"], {
      MARGIN_PASSWORD: "long-enough-pw",
    });
    const shown = JSON.parse((await margin(["user", "show", "--email", "quiet@example.com"])).stdout);
    expect(shown).toMatchObject({ id: JSON.parse(created.stdout).id, timezone: "Asia/Tokyo" });

    // At a terminal it asks, and does not echo what is typed.
    const prompted = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const command = [process.execPath, MARGIN_BIN, "user", "create", "--email", "typed@example.com"].join(
        " ",
      );
      const child = spawn("script", ["-qec", command, "/dev/null"], {
        env: cli.env,
        stdio: ["pipe", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (chunk: Buffer) => {
        const asked = out.includes("Password for typed@example.com");
        out += chunk;
        if (!asked && out.includes("Password for typed@example.com")) child.stdin.write("typed-secret-pw\r");
      });
      child.once("exit", (code) => resolve({ code, out }));
    });
    expect(prompted.code).toBe(0);
    expect(prompted.out).not.toContain("typed-secret-pw");
    expect(JSON.parse((await margin(["user", "show", "--email", "typed@example.com"])).stdout)).toMatchObject(
      {
        email: "typed@example.com",
      },
    );

    const noTerminal = await fails(["user", "create", "--email", "nobody-typed@example.com"]);
    expect(noTerminal.stderr).toMatch(/MARGIN_PASSWORD/);
    const unknown = await fails(["user", "show", "--email", "ghost@example.com"]);
    expect(unknown.stderr).toMatch(/No user with the email ghost@example.com/);
  });

  it("names the variable to change when a port is taken, in one line", async () => {
    const blocker = createServer().listen(0, "127.0.0.1");
    await once(blocker, "listening");
    const taken = (blocker.address() as AddressInfo).port;
    try {
      const result = await fails(["mcp"], {
        MCP_PORT: String(taken),
        MCP_URL: `http://127.0.0.1:${taken}/mcp`,
        LOG_LEVEL: "silent",
      });
      expect(result.code).toBe(1);
      expect(result.stderr.trim()).toBe(
        `margin: port ${taken} is already in use (MCP_PORT). Stop what is using it, or set MCP_PORT to a free port.`,
      );
    } finally {
      blocker.close();
    }
  });

  it("stops within 2 s on Ctrl-C even with a live stream and a browser's open connection", async () => {
    const port = freePort();
    const server = await startAt(port);
    const base = `http://127.0.0.1:${port}`;
    const signUp = await signUpAt(base, "ctrl-c@example.com", "long-enough-pw", "C");
    expect(signUp.status).toBe(200);
    // Sign-up opens no session (it answers alike for taken emails): sign in for the token.
    const token = (await signInAt(base, "ctrl-c@example.com", "long-enough-pw"))!;
    const stream = await fetch(`${base}/api/changes`, { headers: { authorization: `Bearer ${token}` } });
    expect(stream.status).toBe(200);
    // A tab that opened a connection and is slowly sending its request holds the server open until cut.
    const tab = connect(port, "127.0.0.1");
    await once(tab, "connect");
    tab.write("GET /device HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    tab.on("error", () => {});
    const started = performance.now();
    expect(await server.stop("SIGINT")).toBe(0);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it("prints a short summary at a terminal instead of JSON logs, and stops on Ctrl-C", async () => {
    const port = freePort();
    const command = [process.execPath, MARGIN_BIN, "start", "--no-extension"].join(" ");
    const child = spawn("script", ["-qec", command, "/dev/null"], {
      env: { ...cli.env, PORT: String(port), MCP_PORT: String(port + 1), LOG_LEVEL: "" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk));
    const exited = once(child, "exit");
    await vi.waitFor(() => expect(out).toContain("Ctrl-C stops Margin."), { timeout: 90_000, interval: 200 });
    child.stdin.write("\x03"); // what the terminal sends for Ctrl-C
    await exited;
    const text = out.replace(/\r/g, "");
    expect(text).toContain(`Gateway     http://127.0.0.1:${port}\n`);
    // MCP_URL followed MCP_PORT.
    expect(text).toContain(`MCP server  http://127.0.0.1:${port + 1}/mcp\n`);
    expect(text).toMatch(/Model {7}offline/);
    expect(text).toContain("pnpm margin user create --email");
    // Info logs (JSON or not) stay out of a person's way; warnings would still show.
    expect(text).not.toMatch(/^\{"level"|gateway listening/m);
  });

  it("runs MCP server and gateway together with `start`, and stops cleanly", async () => {
    const port = freePort();
    const server = await startAt(port);
    try {
      const base = `http://127.0.0.1:${port}`;
      const signUp = await signUpAt(base, "start@example.com", "long-enough-pw", "S");
      expect(signUp.status).toBe(200);
      const token = await signInAt(base, "start@example.com", "long-enough-pw");
      expect(token).toBeTruthy();
      const created = await fetch(`${base}/api/tasks`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ title: "end to end" }),
      });
      expect(created.status).toBe(201);
      expect((await (await fetch(`${base}/readyz`)).json()).status).toBe("ready");
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});

/** `margin start` without the extension: the gateway on `port`, its MCP server on the port after it. */
function startAt(port: number) {
  const mcpPort = String(port + 1);
  const env = { PORT: String(port), MCP_PORT: mcpPort, MCP_URL: `http://127.0.0.1:${mcpPort}/mcp` };
  return serve(["start", "--no-extension"], env, "gateway listening");
}

function signUpAt(base: string, email: string, password: string, name: string) {
  return fetch(`${base}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: base },
    body: JSON.stringify({ email, password, name }),
  });
}

async function signInAt(base: string, email: string, password: string) {
  const res = await fetch(`${base}/api/auth/sign-in/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: base },
    body: JSON.stringify({ email, password }),
  });
  return res.headers.get("set-auth-token");
}
