import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { beforeAll, describe, expect, it } from "vitest";
import { MARGIN_BIN, marginCliForFile } from "../support/cli.ts";
import { testDbKind } from "../support/database.ts";
import { call } from "../support/mcp.ts";

// Issue 12 item 14: `margin mcp --stdio` serves only a real account, in its zone, and leaves when stdin closes.
// Each test starts the CLI (PGlite starts in seconds on a loaded machine), hence the long timeouts.

const cli = marginCliForFile("stdio");
let userId: string;

beforeAll(async () => {
  const created = await cli.margin(["user", "create", "--email", "me@example.com", "--tz", "Asia/Tokyo"], {
    MARGIN_PASSWORD: "long-enough-pw",
  });
  userId = JSON.parse(created.stdout).id;
});

async function connect(extra: Record<string, string>) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [MARGIN_BIN, "mcp", "--stdio"],
    env: { ...cli.env, MARGIN_USER_ID: userId, ...extra },
    stderr: "pipe",
  });
  const client = new Client({ name: "stdio-test", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

describe("margin mcp --stdio", () => {
  it("refuses a MARGIN_USER_ID that is not an account, saying so", async () => {
    const child = spawn(process.execPath, [MARGIN_BIN, "mcp", "--stdio"], {
      env: { ...cli.env, MARGIN_USER_ID: "nobody-here" },
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
    const child = spawn(process.execPath, [MARGIN_BIN, "mcp", "--stdio"], {
      env: { ...cli.env, MARGIN_USER_ID: userId },
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
    if (testDbKind === "pglite") expect(existsSync(path.join(cli.dataDir, "pglite.lock"))).toBe(false);
  }, 90_000);
});
