// The front ends `margin start` builds before serving: the ChatKit shell page and the browser extension.
// Each is rebuilt only when a hash of its sources differs from the one recorded after its last build, and
// each build runs as a child process, so no build tool is ever loaded into the servers.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { setTimeout } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { acquireDataDirLock, DataDirLockedError } from "./db/data-dir-lock.ts";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export type FrontEnd = {
  /** For people: "the ChatKit page". */
  name: string;
  /** Its sources, relative to the repository; a directory counts all files under it. */
  inputs: string[];
  /** Present only in a source checkout: without it (e.g. in the Docker image) there is nothing to build. */
  sourceMarker: string;
  /** Files a complete build leaves, relative to the repository. */
  outputs: string[];
  /** Where the sources' hash is kept after a successful build. */
  stamp: string;
  /** The build, run from the repository root. */
  command: string[];
  /** The `margin start` flag that skips it. */
  skipFlag?: string;
};

const LOCKFILE = "pnpm-lock.yaml";

export const CHATKIT_PAGE: FrontEnd = {
  name: "the ChatKit page",
  inputs: [
    "gateway/web/index.html",
    "gateway/web/src",
    "gateway/web/vite.config.ts",
    "gateway/package.json",
    LOCKFILE,
  ],
  sourceMarker: "gateway/web/src",
  outputs: ["gateway/web/dist/index.html"],
  stamp: "gateway/web/dist/.sources-hash",
  command: ["pnpm", "--filter", "@margin/gateway", "run", "build"],
};

/** Where the built extension is, per browser: the folders to load unpacked. */
export const EXTENSION_OUTPUT = {
  chrome: "extension/.output/chrome-mv3",
  firefox: "extension/.output/firefox-mv2",
} as const;

export const EXTENSION: FrontEnd = {
  name: "the extension (Chrome and Firefox)",
  inputs: [
    "extension/entrypoints",
    "extension/src",
    "extension/public",
    "extension/wxt.config.ts",
    "extension/dev-public-key.txt",
    "extension/package.json",
    LOCKFILE,
  ],
  sourceMarker: "extension/entrypoints",
  outputs: [`${EXTENSION_OUTPUT.chrome}/manifest.json`, `${EXTENSION_OUTPUT.firefox}/manifest.json`],
  stamp: "extension/.output/.sources-hash",
  command: ["pnpm", "--filter", "@margin/extension", "run", "build"],
  skipFlag: "--no-extension",
};

/** A front end that did not build; the message says how to see why, or to skip it. */
export class BuildError extends Error {
  override name = "BuildError";
}

/** Unit tests do not change what is shipped. */
const isTestFile = (name: string) => /\.test\.tsx?$/.test(name);

function filesUnder(root: string, relative: string): string[] {
  const full = path.join(root, relative);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [relative];
  return readdirSync(full, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && !isTestFile(entry.name))
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)));
}

/** A hash of the sources' paths and contents: unlike times, it survives clones, checkouts and copies. */
export function sourcesHash(frontEnd: FrontEnd, root = REPO_ROOT): string {
  const hash = createHash("sha256");
  const files = frontEnd.inputs.flatMap((input) => filesUnder(root, input)).sort();
  for (const file of files) {
    hash.update(`${file.split(path.sep).join("/")}\0`);
    hash.update(readFileSync(path.join(root, file)));
    hash.update("\0");
  }
  return hash.digest("hex");
}

export type BuildOutcome = "built" | "up to date" | "no sources";

/** Builds `frontEnd` unless its outputs are there and come from the current sources. */
export async function buildIfStale(
  frontEnd: FrontEnd,
  opts: { root?: string; onBuild?: (frontEnd: FrontEnd) => void } = {},
): Promise<BuildOutcome> {
  const root = opts.root ?? REPO_ROOT;
  const marker = path.join(root, frontEnd.sourceMarker);
  if (!existsSync(marker)) return "no sources";
  const hash = sourcesHash(frontEnd, root);
  if (isBuiltFrom(frontEnd, root, hash)) return "up to date";
  // Two starts at once (other data folders, tests) must not build into one folder together.
  const release = await waitForLock(path.join(path.dirname(marker), ".build"));
  try {
    if (isBuiltFrom(frontEnd, root, hash)) return "up to date";
    opts.onBuild?.(frontEnd);
    await run(frontEnd, root);
    writeFileSync(path.join(root, frontEnd.stamp), hash);
    return "built";
  } finally {
    release();
  }
}

function isBuiltFrom(frontEnd: FrontEnd, root: string, hash: string): boolean {
  const stamp = path.join(root, frontEnd.stamp);
  return (
    frontEnd.outputs.every((output) => existsSync(path.join(root, output))) &&
    existsSync(stamp) &&
    readFileSync(stamp, "utf8") === hash
  );
}

async function waitForLock(file: string): Promise<() => void> {
  for (;;) {
    try {
      return acquireDataDirLock(file);
    } catch (err) {
      if (!(err instanceof DataDirLockedError)) throw err;
      await setTimeout(250);
    }
  }
}

/** Runs a build quietly; its output is shown only when it fails. Ctrl-C stops it and exits. */
async function run(frontEnd: FrontEnd, root: string): Promise<void> {
  const [command, ...args] = frontEnd.command as [string, ...string[]];
  const child = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk));
  // Exiting runs the exit handlers, which release the data directory's lock.
  const interrupted = () => {
    child.kill("SIGTERM");
    process.exit(130);
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once("error", reject);
      child.once("close", resolve);
    });
    if (code !== 0) {
      const tail = output.trim().split("\n").slice(-30).join("\n");
      throw new BuildError(
        `building ${frontEnd.name} failed (\`${frontEnd.command.join(" ")}\`):\n${tail}` +
          (frontEnd.skipFlag ? `\nFix it, or start without it: \`pnpm start ${frontEnd.skipFlag}\`.` : ""),
      );
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT")
      throw new BuildError(
        `building ${frontEnd.name} needs pnpm, which is not on PATH; get it with \`npm install --global pnpm@12\`.`,
      );
    throw err;
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
  }
}
