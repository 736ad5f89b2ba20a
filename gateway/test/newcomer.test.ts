// The newcomer's two commands, as they would type them: a clean clone, `pnpm install`, `pnpm start` with no
// DATABASE_URL (embedded PGlite in the clone's .data), then the REST API, Ctrl-C, and a second start.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../src/builds.ts";
import { bearer, postJson, signUp } from "./support/auth.ts";
import { testDbKind } from "./support/database.ts";

const run = promisify(execFile);

/** The environment of someone who has just cloned: none of the test run's Margin settings. */
function newcomerEnv(port: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(VITEST|TEST_|NODE_ENV$|npm_)/.test(name)) continue;
    env[name] = value;
  }
  for (const name of [
    "DATABASE_URL",
    "DATA_DIR",
    "MCP_URL",
    "PUBLIC_URL",
    "EXTENSION_ORIGINS",
    "MCP_TOKEN_SECRET",
    "BETTER_AUTH_SECRET",
    "LOG_LEVEL",
    "LOG_FORMAT",
  ])
    delete env[name];
  // Only the ports differ from the defaults: other agents' servers share this machine.
  return { ...env, PORT: String(port), MCP_PORT: String(port + 1), TZ: "UTC" };
}

async function freePortPair(): Promise<number> {
  for (;;) {
    const server = createServer().listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const next = createServer().listen(port + 1, "127.0.0.1");
    const ok = await Promise.race([
      once(next, "listening").then(() => true),
      once(next, "error").then(() => false),
    ]);
    await new Promise((resolve) => next.close(() => resolve(undefined)));
    if (ok && port < 65535) return port;
  }
}

type Started = { child: ChildProcess; output: () => string; exited: Promise<number | null> };

/** `pnpm start` in its own process group, as a terminal runs it (Ctrl-C reaches pnpm and margin alike). */
function pnpmStart(cwd: string, env: NodeJS.ProcessEnv): Started {
  const child = spawn("pnpm", ["start"], { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

const ctrlC = (started: Started) => process.kill(-started.child.pid!, "SIGINT");

async function waitReady(base: string, started: Started, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (started.child.exitCode !== null)
      throw new Error(`pnpm start exited (${started.child.exitCode}):\n${started.output().slice(-3000)}`);
    const ready = await fetch(`${base}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`not ready within ${ms} ms:\n${started.output().slice(-3000)}`);
}

/** Ctrl-C; resolves with how long the whole process group took to exit. */
async function stop(started: Started): Promise<number> {
  const sent = performance.now();
  ctrlC(started);
  const timer = setTimeout(() => process.kill(-started.child.pid!, "SIGKILL"), 15_000);
  await started.exited;
  clearTimeout(timer);
  return performance.now() - sent;
}

// Slow by nature (an install, two front-end builds, PGlite's first start); it needs no Postgres server, so the
// PGlite project skips it rather than run it twice.
describe.skipIf(testDbKind !== "postgres")("a newcomer's first run", { timeout: 900_000 }, () => {
  let root: string;
  let clone: string;
  let env: NodeJS.ProcessEnv;
  let base: string;
  const running: Started[] = [];

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), "margin-newcomer-"));
    clone = path.join(root, "margin");
    // What is committed, as someone else would get it (uncommitted edits are not part of a clone).
    await run("git", ["clone", "--quiet", REPO_ROOT, clone]);
    const port = await freePortPair();
    env = newcomerEnv(port);
    base = `http://127.0.0.1:${port}`;
  }, 120_000);

  afterAll(async () => {
    for (const started of running) if (started.child.exitCode === null) await stop(started);
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("installs with pnpm from the lockfile", async () => {
    await run("pnpm", ["install", "--frozen-lockfile", "--prefer-offline"], {
      cwd: clone,
      env,
      timeout: 600_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    expect(existsSync(path.join(clone, "node_modules"))).toBe(true);
  });

  it("starts once per data folder: of two `pnpm start`, one runs and the other says why it stopped", async () => {
    const [first, second] = [pnpmStart(clone, env), pnpmStart(clone, env)];
    running.push(first, second);
    // The loser stops at the data folder's lock, before building anything.
    const loser = await Promise.race([first.exited.then(() => first), second.exited.then(() => second)]);
    const winner = loser === first ? second : first;
    expect(await loser.exited).not.toBe(0);
    expect(loser.output()).toMatch(
      /margin: The embedded database at .*\.data\/pglite is in use by another margin process/,
    );
    expect(loser.output()).not.toMatch(/^\s+at /m); // one message, no stack trace
    await waitReady(base, winner, 600_000);
    expect(winner.output()).toMatch(/building the ChatKit page… done/);
    expect(winner.output()).toMatch(/building the extension \(Chrome and Firefox\)… done/);
    running.splice(0, running.length, winner);
  });

  it("has built the extension for Chrome (with the fixed id's key) and Firefox, and the ChatKit page", async () => {
    const manifest = (browser: string) =>
      JSON.parse(readFileSync(path.join(clone, "extension/.output", browser, "manifest.json"), "utf8"));
    const key = readFileSync(path.join(clone, "extension/dev-public-key.txt"), "utf8").trim();
    expect(manifest("chrome-mv3")).toMatchObject({ manifest_version: 3, key, side_panel: expect.anything() });
    expect(manifest("firefox-mv2")).toMatchObject({ manifest_version: 2, sidebar_action: expect.anything() });
    expect((await fetch(`${base}/chatkit/panel`)).status).toBe(200);
  });

  let token: string;

  it("signs a user up and adds a task through the REST API", async () => {
    token = await signUp(base, "newcomer@example.com");
    const created = await postJson(base, "/api/tasks", { title: "read the README" }, bearer(token));
    expect(created.status).toBe(201);
  });

  it("stops on Ctrl-C within 2 s, releasing the data folder", async () => {
    const [started] = running;
    const ms = await stop(started!);
    expect(ms).toBeLessThan(2000);
    expect(existsSync(path.join(clone, ".data/pglite.lock"))).toBe(false);
  });

  it("starts again on the same data without rebuilding, and the task is there", async () => {
    const again = pnpmStart(clone, env);
    running.splice(0, running.length, again);
    await waitReady(base, again, 300_000);
    expect(again.output()).not.toMatch(/building/);
    // The session from before the restart still holds (the generated secrets were kept with the data).
    const res = await fetch(`${base}/api/tasks`, { headers: bearer(token) });
    expect(res.status).toBe(200);
    const { tasks } = (await res.json()) as { tasks: { title: string }[] };
    expect(tasks.map((t) => t.title)).toEqual(["read the README"]);
    expect(await stop(again)).toBeLessThan(2000);
  });
});
