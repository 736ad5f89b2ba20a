import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import type { TestDatabase } from "../test/support/database.ts";
import { type McpHttpHarness, mcpHarnessAt, TEST_SECRET } from "../test/support/mcp.ts";
import { freePort } from "./lib.ts";

const bin = fileURLToPath(new URL("../bin/margin.js", import.meta.url));

/**
 * `margin mcp` in a process of its own, as deployed (compose runs it in its own container): a gateway bench
 * that ran it in the gateway's process would share one event loop between the two, and count the MCP
 * server's work against the gateway's throughput.
 */
export async function startMcpProcess(database: TestDatabase): Promise<McpHttpHarness> {
  if (!database.url) throw new Error("the MCP server process needs a Postgres database (TEST_DB=postgres)");
  const port = await freePort();
  const url = new URL(`http://127.0.0.1:${port}/mcp`);
  const child = spawn(process.execPath, ["--experimental-async-context-frame", bin, "mcp"], {
    env: {
      PATH: process.env.PATH ?? "",
      NODE_ENV: "production",
      DATABASE_URL: database.url,
      MCP_TOKEN_SECRET: TEST_SECRET,
      HOST: "127.0.0.1",
      MCP_PORT: String(port),
      MCP_URL: url.href,
      LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const exited = once(child, "exit");
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await fetch(new URL("/healthz", url)).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill();
      throw new Error(`margin mcp did not start (exit code ${child.exitCode})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return mcpHarnessAt(url, database, async () => {
    child.kill("SIGTERM");
    await exited;
  });
}
