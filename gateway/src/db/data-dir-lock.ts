import { readFileSync, rmSync, writeFileSync } from "node:fs";

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

/**
 * Takes an exclusive pid lock next to a PGlite directory. A lock left by a dead process is taken over.
 * Returns the release function.
 */
export function acquireDataDirLock(dir: string): () => void {
  const file = `${dir}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: "wx" });
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        rmSync(file, { force: true });
        process.off("exit", release);
      };
      process.on("exit", release);
      return release;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = Number(readFileSync(file, "utf8").trim());
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) throw new DataDirLockedError(dir, pid);
      rmSync(file, { force: true });
    }
  }
  throw new Error(`Could not lock ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
