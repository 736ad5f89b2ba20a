import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync } from "node:fs";

/** A Docker engine the compose test talks to: one already running, or one this process started. */
export type Engine = {
  /** The DOCKER_HOST value for docker and docker-compose. */
  host: string;
  /** Stops the engine if this process started it; leaves a pre-existing one alone. */
  stop(): Promise<void>;
};

/** Why no engine could run here; the test skips loudly with it. */
export class NoEngineError extends Error {
  override name = "NoEngineError";
}

// Images survive between runs under one data root, so a warm rerun rebuilds nothing.
const ROOT = process.env.MARGIN_DOCKER_ROOT ?? "/var/tmp/margin-docker";
const SOCKET = `${ROOT}/docker.sock`;

function answers(host: string): boolean {
  const probe = spawnSync("docker", ["info", "--format", "{{.ServerVersion}}"], {
    env: { ...process.env, DOCKER_HOST: host },
    stdio: "ignore",
    timeout: 10_000,
  });
  return probe.status === 0;
}

const has = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;

/**
 * Finds or starts an engine. The machine has no iptables, so the daemon runs with it off (published ports
 * still reach the host through docker-proxy) and with the vfs storage driver, the one that works here.
 */
export async function startEngine(): Promise<Engine> {
  for (const host of [process.env.DOCKER_HOST, `unix://${SOCKET}`, "unix:///var/run/docker.sock"]) {
    if (host && answers(host)) return { host, stop: async () => {} };
  }
  const missing = ["docker", "dockerd", "docker-compose", "debootstrap"].filter((c) => !has(c));
  if (missing.length)
    throw new NoEngineError(
      `missing ${missing.join(", ")} (apt-get install docker.io docker-compose debootstrap)`,
    );
  if (process.getuid?.() !== 0) throw new NoEngineError("starting dockerd needs root");
  // A daemon left over from an interrupted run holds the data root: stop it first (it is ours, by its pid file).
  const pidFile = `${ROOT}/dockerd.pid`;
  if (existsSync(pidFile)) {
    const stale = Number(readFileSync(pidFile, "utf8"));
    if (stale > 0 && alive(stale)) {
      process.kill(stale, "SIGTERM");
      await waitFor(() => !alive(stale), 60_000, "a stale dockerd to stop").catch(() =>
        process.kill(stale, "SIGKILL"),
      );
      await waitFor(() => !alive(stale), 10_000, "a stale dockerd to die");
    }
  }
  mkdirSync(ROOT, { recursive: true });
  const log = openSync(`${ROOT}/dockerd.log`, "a");
  const daemon: ChildProcess = spawn(
    "dockerd",
    [
      "--iptables=false",
      "--ip6tables=false",
      "--storage-driver=vfs",
      `--data-root=${ROOT}/data`,
      `--exec-root=${ROOT}/exec`,
      `--pidfile=${pidFile}`,
      "-H",
      `unix://${SOCKET}`,
    ],
    { stdio: ["ignore", log, log], detached: true },
  );
  const host = `unix://${SOCKET}`;
  // The tools are here, so the engine must come up: a failure now is an error, not a reason to skip.
  // On a busy machine with vfs, loading what an earlier run left behind takes a while.
  try {
    await waitFor(() => answers(host), 240_000, `dockerd to answer (log: ${ROOT}/dockerd.log)`);
  } catch (err) {
    daemon.kill("SIGTERM");
    throw err;
  }
  return {
    host,
    async stop() {
      if (daemon.exitCode !== null || !daemon.pid) return;
      daemon.kill("SIGTERM");
      await waitFor(() => daemon.exitCode !== null || !alive(daemon.pid!), 30_000, "dockerd to stop").catch(
        () => daemon.kill("SIGKILL"),
      );
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitFor(
  check: () => boolean | Promise<boolean>,
  ms: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}
