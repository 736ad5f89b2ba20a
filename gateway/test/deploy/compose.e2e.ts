import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearer, signIn, signUp } from "../support/auth.ts";
import { type Engine, NoEngineError, startEngine, waitFor } from "./engine.ts";
import { baseImageOf, REPO, readCompose } from "./project-files.ts";
import { buildNodeImage, buildPostgresImage, runner } from "./standins.ts";

const PROJECT = "margin-compose-test";
const IMAGE = "margin:compose-test";

let engine: Engine | undefined;
let skipReason: string | undefined;
let dir: string;
let baseUrl: string;
let compose: (args: string[], timeoutMs: number) => string;
let dockerEnv: NodeJS.ProcessEnv;
let baseImage: string;
const mb = (bytes: number) => (bytes / 1e6).toFixed(0);
const timings: Record<string, number> = {};

async function timed<T>(name: string, step: () => T | Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await step();
  } finally {
    timings[name] = Math.round((Date.now() - t0) / 100) / 10;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

async function ready(timeoutMs = 300_000) {
  await waitFor(
    () =>
      fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      ),
    timeoutMs,
    `the gateway's /readyz on ${baseUrl} (${compose(["ps"], 30_000)})`,
  );
}

beforeAll(async () => {
  try {
    engine = await timed("engine", startEngine);
  } catch (err) {
    if (!(err instanceof NoEngineError)) throw err;
    skipReason = err.message;
    console.warn(
      `\n${"!".repeat(78)}\n!! SKIPPED: no Docker engine can run here: ${skipReason}\n${"!".repeat(78)}\n`,
    );
    return;
  }
  // BuildKit through the CLI of the engine's own package (docker.io): a newer CLI without buildx cannot use it.
  const env = {
    ...process.env,
    DOCKER_HOST: engine.host,
    DOCKER_BUILDKIT: "1",
    COMPOSE_DOCKER_CLI_BUILD: "1",
    PATH: `/usr/bin:${process.env.PATH}`,
    // Compose v1's API calls time out at 60 s; stopping containers on a busy machine can take longer.
    COMPOSE_HTTP_TIMEOUT: "300",
  };
  dockerEnv = env;
  const run = runner(env);
  await timed("base images", () => {
    baseImage = baseImageOf(readFileSync(path.join(REPO, "Dockerfile"), "utf8"));
    buildNodeImage(run, baseImage);
    buildPostgresImage(run, readCompose().services.postgres!.image!);
  });

  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  dir = mkdtempSync(path.join(tmpdir(), "margin-compose-"));
  // Builds need the registry, so the host network; only this test's override says so, not the project's file.
  writeFileSync(
    path.join(dir, "override.yml"),
    ["migrate", "mcp", "gateway"].reduce(
      (yml, s) => `${yml}  ${s}: { build: { context: ${JSON.stringify(REPO)}, network: host } }\n`,
      "services:\n",
    ),
  );
  // .env.example with its blanks filled, as a user would.
  const example = readFileSync(path.join(REPO, ".env.example"), "utf8");
  const filled = example
    .replace(/^MCP_TOKEN_SECRET=$/m, `MCP_TOKEN_SECRET=${"m".repeat(40)}`)
    .replace(/^BETTER_AUTH_SECRET=$/m, `BETTER_AUTH_SECRET=${"b".repeat(40)}`)
    .replace(/^POSTGRES_PASSWORD=$/m, "POSTGRES_PASSWORD=compose-test-password")
    .replace(/^PUBLIC_URL=.*$/m, `PUBLIC_URL=${baseUrl}`)
    .replace(/^GATEWAY_PUBLISHED_PORT=.*$/m, `GATEWAY_PUBLISHED_PORT=${port}`)
    .replace(/^MARGIN_IMAGE=.*$/m, `MARGIN_IMAGE=${IMAGE}`);
  writeFileSync(path.join(dir, ".env"), filled);
  const files = [
    "-p",
    PROJECT,
    "-f",
    path.join(REPO, "docker-compose.yml"),
    "-f",
    path.join(dir, "override.yml"),
  ];
  compose = (args, timeoutMs) => {
    const r = spawnSync("docker-compose", ["--env-file", path.join(dir, ".env"), ...files, ...args], {
      env,
      cwd: REPO,
      encoding: "utf8",
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.status !== 0) {
      // What the containers said is usually the reason.
      const logs = spawnSync(
        "docker-compose",
        ["--env-file", path.join(dir, ".env"), ...files, "logs", "--no-color", "--tail", "40"],
        {
          env,
          cwd: REPO,
          encoding: "utf8",
          timeout: 30_000,
        },
      );
      throw new Error(
        `docker-compose ${args.join(" ")}: ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}\n${logs.stdout}`.slice(
          -8000,
        ),
      );
    }
    return r.stdout;
  };
  // A run interrupted earlier may have left containers and the volume behind.
  compose(["down", "-v", "-t", "2"], 300_000);
  await timed("build", () => compose(["build", "migrate"], 12 * 60_000));
}, 15 * 60_000);

afterAll(async () => {
  try {
    if (compose) compose(["down", "-v", "-t", "2"], 300_000);
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await engine?.stop();
    if (engine) console.log(`compose test timings (s): ${JSON.stringify(timings)}`);
  }
}, 360_000);

describe("docker-compose.yml on a real Docker engine", () => {
  it("builds a small non-root image with a health check", (ctx) => {
    if (skipReason) return ctx.skip();
    const inspect = spawnSync(
      "docker",
      ["image", "inspect", IMAGE, "--format", "{{.Size}} {{.Config.User}} {{json .Config.Healthcheck}}"],
      { env: dockerEnv, encoding: "utf8" },
    );
    const [size, user, ...health] = inspect.stdout.trim().split(" ");
    // The base is a stand-in here, so the image's own layers are what this test can vouch for.
    const base = spawnSync("docker", ["image", "inspect", baseImage, "--format", "{{.Size}}"], {
      env: dockerEnv,
      encoding: "utf8",
    });
    const own = Number(size) - Number(base.stdout.trim());
    console.log(`image ${IMAGE}: ${mb(Number(size))} MB, of which ${mb(own)} MB above ${baseImage}`);
    expect(user).toBe("1000:1000");
    expect(health.join(" ")).toContain("/healthz");

    // Generous: what matters is that nothing big and unneeded creeps in (it is about 140 MB).
    expect(own).toBeLessThan(200e6);
  });

  it("serves a signed-up user's task, across a gateway restart and a down/up that keeps the volume", async (ctx) => {
    if (skipReason) return ctx.skip();
    await timed("first up", async () => {
      compose(["up", "-d"], 600_000);
      await ready();
    });
    // The one-shot migration ran and succeeded before the servers started.
    const migrate = compose(["ps", "-a", "migrate"], 30_000);
    expect(migrate).toMatch(/Exit 0/);

    // Inside the running gateway (a new container would cost a full copy of the image on vfs): the built
    // shell page is there, the extension, the tests and the dev dependencies are not, and it is not root.
    const inside = compose(
      [
        "exec",
        "-T",
        "gateway",
        "node",
        "-e",
        `const fs = require("node:fs");
         console.log(JSON.stringify({
           uid: process.getuid(),
           shell: fs.existsSync("gateway/web/dist/index.html"),
           extension: fs.existsSync("extension"),
           tests: fs.existsSync("gateway/test"),
           dev: fs.readdirSync("node_modules/.pnpm")
             .filter((d) => /^(vite|vitest|typescript|drizzle-kit|@vitejs|playwright-core)@/.test(d)),
         }));`,
      ],
      120_000,
    );
    expect(JSON.parse(inside)).toEqual({ uid: 1000, shell: true, extension: false, tests: false, dev: [] });

    const email = "compose@example.com";
    const token = await signUp(baseUrl, email);
    const created = await fetch(`${baseUrl}/api/tasks`, {
      method: "POST",
      headers: { "content-type": "application/json", ...bearer(token) },
      body: JSON.stringify({ title: "survives restarts" }),
    });
    expect(created.status).toBe(201);
    const titles = async (t: string) => {
      const res = await fetch(`${baseUrl}/api/tasks`, { headers: bearer(t) });
      expect(res.status).toBe(200);
      return ((await res.json()) as { tasks: { title: string }[] }).tasks.map((task) => task.title);
    };

    await timed("gateway restart", async () => {
      compose(["restart", "-t", "5", "gateway"], 300_000);
      await ready();
    });
    expect(await titles(token)).toEqual(["survives restarts"]);

    await timed("down and up", async () => {
      compose(["down", "-t", "5"], 300_000);
      compose(["up", "-d"], 600_000);
      await ready();
    });
    // Sessions live in Postgres too: the old bearer still works, and signing in again does.
    expect(await titles(token)).toEqual(["survives restarts"]);
    expect(await titles(await signIn(baseUrl, email))).toEqual(["survives restarts"]);
  });
});
