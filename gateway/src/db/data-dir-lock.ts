import { randomBytes } from "node:crypto";
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";

/** Another live process owns the embedded database directory. */
export class DataDirLockedError extends Error {
  override name = "DataDirLockedError";
  readonly pid: number;

  constructor(dir: string, pid: number) {
    super(
      `The embedded database at ${dir} is in use by another margin process (pid ${pid}). ` +
        "Two processes on one PGlite directory corrupt it, so this one stops. " +
        "Stop the other process, talk to it over HTTP, or set DATABASE_URL to use a Postgres server.",
    );
    this.pid = pid;
  }
}

/** A lock file's content: the owner's pid and a nonce naming this one taking of the lock. */
type Holder = { pid: number; nonce: string };

/** How long to wait for another process that is taking over the same stale lock (it takes microseconds). */
const TAKEOVER_WAIT_MS = 2000;

/**
 * Takes an exclusive pid lock next to a PGlite directory (`<dir>.lock`). A lock left by a dead process is
 * taken over. Returns the release function.
 *
 * Why it is safe when several processes find the same dead lock at once: a lock file appears with its content
 * in one step (written aside, then linked or renamed into place), and a stale lock is replaced only by whoever
 * creates `<lock>.<its nonce>` first (O_EXCL). While that marker exists nobody else can replace that lock, so
 * the winner's check that the lock is still the dead one holds until its rename; the others then find a live
 * owner. A marker whose own creator died is stale in the same way and taken over by the same rule.
 */
export function acquireDataDirLock(dir: string): () => void {
  const file = `${dir}.lock`;
  const mine: Holder = { pid: process.pid, nonce: randomBytes(9).toString("base64url") };
  const taken = claim(file, mine, Date.now() + TAKEOVER_WAIT_MS);
  if (taken !== "ours") throw new DataDirLockedError(dir, taken.pid);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    // Only our own lock: a process that is alive is never taken over, so this is still ours.
    if (readHolder(file)?.nonce === mine.nonce) rmSync(file, { force: true });
    process.off("exit", release);
  };
  process.on("exit", release);
  return release;
}

/** Makes `path` hold `mine` if it is free or its holder is dead; otherwise says who holds it. */
function claim(path: string, mine: Holder, deadline: number): "ours" | Holder {
  for (;;) {
    if (place(path, mine, "create")) return "ours";
    const held = readHolder(path);
    if (!held) continue; // released meanwhile
    if (isAlive(held.pid)) return held;
    // A dead holder: only the process that creates this lock instance's marker may replace it.
    const marker = `${path}.${held.nonce}`;
    const markerHolder = claim(marker, mine, deadline);
    if (markerHolder !== "ours") {
      // Another live process is replacing it right now; look again shortly.
      if (Date.now() > deadline) return markerHolder;
      sleep(5);
      continue;
    }
    try {
      if (readHolder(path)?.nonce === held.nonce) {
        place(path, mine, "replace");
        return "ours";
      }
      // Replaced (or released) before we got the marker: look again.
    } finally {
      rmSync(marker, { force: true });
    }
  }
}

/**
 * Puts `holder` at `path` with its content already written: `create` only if nothing is there (link fails
 * with EEXIST), `replace` over what is there (rename). Returns false when `create` found a file.
 */
function place(path: string, holder: Holder, how: "create" | "replace"): boolean {
  const aside = `${path}.${holder.pid}.${randomBytes(6).toString("hex")}.tmp`;
  writeFileSync(aside, `${holder.pid} ${holder.nonce}`, { flag: "wx" });
  try {
    if (how === "replace") {
      renameSync(aside, path);
      return true;
    }
    linkSync(aside, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  } finally {
    rmSync(aside, { force: true });
  }
}

/** Who holds `path`, or undefined when it is gone. A lock from an older version holds only a pid. */
function readHolder(path: string): Holder | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8").trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  const [pid, nonce] = text.split(" ");
  return { pid: Number(pid), nonce: nonce ?? `pid-${Number(pid) || 0}` };
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** The lock is taken synchronously (at start-up, before anything else runs), so waiting blocks too. */
function sleep(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}
