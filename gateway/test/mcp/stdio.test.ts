import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase, testDbKind } from "../support/database.ts";
import { call } from "../support/mcp.ts";

// Issue 12 item 14: `margin mcp --stdio` serves only a real account, in its zone, and leaves when stdin closes.
// Each test starts the CLI (PGlite starts in seconds on a loaded machine), hence the long timeouts.

const bin = fileURLToPath(new URL("../../bin/margin.js", import.meta.url));
const run = promisify(execFile);
const SECRET = "stdio-test-secret-0123456789-0123456789";
let database: TestDatabase;
let dataDir: string;
let env: Record<string, string>;
let userId: string;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "margin-stdio-"));
  database = await createTestDatabase();
  env = {
    PATH: process.env.PATH ?? "",
    TZ: "UTC",
    DATA_DIR: dataDir,
    MCP_TOKEN_SECRET: SECRET,
    BETTER_AUTH_SECRET: `${SECRET}-auth`,
    LOG_LEVEL: "silent",
    ...(testDbKind === "postgres" ? { DATABASE_URL: database.url! } : {}),
  };
  const created = await run(
    process.execPath,
    [bin, "user", "create", "--email", "me@example.com", "--tz", "Asia/Tokyo"],
    {
      env: { ...env, MARGIN_PASSWORD: "long-enough-pw" },
      timeout: 60_000,
    },
  );
  userId = JSON.parse(created.stdout).id;
});
afterAll(async () => {
  await database?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

async function connect(extra: Record<string, string>) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [bin, "mcp", "--stdio"],
    env: { ...env, MARGIN_USER_ID: userId, ...extra },
    stderr: "pipe",
  });
  const client = new Client({ name: "stdio-test", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

describe("margin mcp --stdio", () => {
  it("refuses a MARGIN_USER_ID that is not an account, saying so", async () => {
    const child = spawn(process.execPath, [bin, "mcp", "--stdio"], {
      env: { ...env, MARGIN_USER_ID: "nobody-here" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk;
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code).toBe(1);
    expect(stderr).toMatch(/MARGIN_USER_ID "nobody-here" is not an account/);
  }, 90_000);

  it("uses the account's time zone, and MARGIN_TZ only as an override", async () => {
    const own = await connect({});
    try {
      const added = await call(own, "add_task", { title: "in tokyo", due: "2099-12-24T18:00" });
      expect(added.structuredContent.task.due).toMatchObject({
        at: "2099-12-24T09:00:00.000Z",
        tz: "Asia/Tokyo",
      });
    } finally {
      await own.close();
    }
    const overridden = await connect({ MARGIN_TZ: "Europe/Berlin" });
    try {
      const added = await call(overridden, "add_task", { title: "in berlin", due: "2099-12-24T18:00" });
      expect(added.structuredContent.task.due).toMatchObject({
        at: "2099-12-24T17:00:00.000Z",
        tz: "Europe/Berlin",
      });
    } finally {
      await overridden.close();
    }
  }, 90_000);

  it("exits promptly once stdin closes, releasing the embedded database", async () => {
    const child = spawn(process.execPath, [bin, "mcp", "--stdio"], {
      env: { ...env, MARGIN_USER_ID: userId },
      stdio: ["pipe", "pipe", "inherit"],
    });
    // Ready once it answers a request.
    const answered = new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" })}\n`);
    await answered;
    const closedAt = performance.now();
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    child.stdin.end();
    // Generous for a loaded machine; before the fix it stayed 10-30 s (or until killed).
    const code = await Promise.race([
      exited,
      new Promise<"lingered">((r) => setTimeout(() => r("lingered"), 5_000)),
    ]);
    if (code === "lingered") child.kill("SIGKILL");
    expect(code).toBe(0);
    expect(performance.now() - closedAt).toBeLessThan(5_000);
    if (testDbKind === "pglite") expect(existsSync(path.join(dataDir, "pglite.lock"))).toBe(false);
  }, 90_000);
});
