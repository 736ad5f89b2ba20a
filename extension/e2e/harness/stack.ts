import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";

const MARGIN_BIN = fileURLToPath(new URL("../../../gateway/bin/margin.js", import.meta.url));
const ADMIN_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** A free loopback port (several suites run at once on this machine). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

export type Stack = {
  /** The gateway's base URL, e.g. http://127.0.0.1:41234 */
  gatewayUrl: string;
  /** The Postgres URL, or the embedded (PGlite) data directory. */
  database: string;
  /** Stops the gateway + MCP server process (the database stays). */
  stop(): Promise<void>;
  /** Starts it again on the same ports and database. */
  start(): Promise<void>;
  /** What the servers logged (for failure messages). */
  logs(): string;
  /** Stops everything and drops the database. */
  close(): Promise<void>;
};

/**
 * The real stack: `margin start --no-extension` (gateway + MCP server in one process, the gateway package's own
 * start code) on a fresh database (Postgres, or PGlite with E2E_DB=pglite) and free ports, with the offline model.
 */
export async function startStack(opts: {
  extensionOrigins: string[];
  env?: Record<string, string>;
  /** On `pnpm start`'s own ports, at the panel's default address (http://localhost:8787), not free ones. */
  defaultPorts?: boolean;
}): Promise<Stack> {
  const database = await createDatabase();
  const [port, mcpPort] = opts.defaultPorts ? [8787, 8788] : [await freePort(), await freePort()];
  const gatewayUrl = opts.defaultPorts ? `http://localhost:${port}` : `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    NODE_ENV: "test",
    TZ: "UTC",
    DATABASE_URL: "",
    ...database.env,
    PORT: String(port),
    MCP_PORT: String(mcpPort),
    MCP_URL: `http://127.0.0.1:${mcpPort}/mcp`,
    PUBLIC_URL: gatewayUrl,
    MCP_TOKEN_SECRET: randomBytes(32).toString("base64url"),
    BETTER_AUTH_SECRET: randomBytes(32).toString("base64url"),
    EXTENSION_ORIGINS: opts.extensionOrigins.join(","),
    MODEL_PROVIDER: "offline",
    LOG_LEVEL: "warn",
    WRITE_RATE_LIMIT_PER_MINUTE: "10000",
    ...opts.env,
  };
  let child: ChildProcess | undefined;
  let output = "";

  async function start() {
    const proc = spawn(
      process.execPath,
      ["--experimental-async-context-frame", MARGIN_BIN, "start", "--no-extension"],
      {
        env,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    child = proc;
    proc.stdout?.on("data", (d) => (output += d));
    proc.stderr?.on("data", (d) => (output += d));
    const exited = once(proc, "exit").then(() => {
      throw new Error(`margin start exited early:\n${output.slice(-3000)}`);
    });
    const ready = (async () => {
      // `margin start` first builds the ChatKit page if its sources changed (tens of seconds on a busy machine).
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        const ok = await fetch(`${gatewayUrl}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) return;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`gateway not ready within 120 s:\n${output.slice(-3000)}`);
    })();
    await Promise.race([ready, exited]);
    exited.catch(() => {});
  }

  async function stop() {
    const proc = child;
    if (!proc || proc.exitCode !== null) return;
    child = undefined;
    const exited = once(proc, "exit");
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }

  await start();
  return {
    gatewayUrl,
    database: database.description,
    stop,
    start,
    logs: () => output,
    async close() {
      await stop();
      await database.drop();
    },
  };
}

/**
 * A fresh database for one stack: a new Postgres database, or (E2E_DB=pglite) an embedded PGlite data directory
 * that `margin start` owns, as a self-hoster's default `pnpm start` does.
 */
async function createDatabase(): Promise<{
  env: Record<string, string>;
  description: string;
  drop(): Promise<void>;
}> {
  if (process.env.E2E_DB === "pglite") {
    const dir = mkdtempSync(path.join(os.tmpdir(), "margin-e2e-data-"));
    return {
      env: { DATA_DIR: dir },
      description: dir,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `margin_e2e_${randomBytes(6).toString("hex")}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.href },
    description: url.href,
    async drop() {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/** Calls the gateway's REST API as a signed-in user (to check what the panel did). */
export async function api<T = unknown>(
  gatewayUrl: string,
  token: string,
  path: string,
  init: RequestInit = {},
): Promise<T> {
  const res = await fetch(gatewayUrl + path, {
    ...init,
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.body ? { "content-type": "application/json" } : {}),
      ...(init.headers as Record<string, string>),
    },
  });
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
