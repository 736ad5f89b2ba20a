import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { connect } from "../../src/db/connect.ts";
import { acquireDataDirLock, DataDirLockedError } from "../../src/db/data-dir-lock.ts";
import { testDbKind } from "../support/database.ts";

const root = mkdtempSync(path.join(tmpdir(), "margin-lock-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// Only the embedded database has a directory to own.
describe.skipIf(testDbKind !== "pglite")("embedded database ownership", () => {
  it("lets one process own a PGlite directory and refuses a second opener with a clear message", async () => {
    const dir = path.join(root, "data", "pglite");
    const owner = await connect({ kind: "pglite", dir });
    try {
      const second = connect({ kind: "pglite", dir });
      await expect(second).rejects.toBeInstanceOf(DataDirLockedError);
      await expect(second).rejects.toThrow(/in use by another margin process .*DATABASE_URL/s);
    } finally {
      await owner.close();
    }
    // Released on close: the next owner opens it and still sees the data directory.
    const next = await connect({ kind: "pglite", dir });
    await next.close();
  });
});

// The lock itself is plain files: one run (the PGlite project) is enough.
describe.skipIf(testDbKind !== "pglite")("taking over a dead process's lock", () => {
  /** A pid that is not running: a process that has exited. */
  async function deadPid(): Promise<number> {
    const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    await once(child, "exit");
    return child.pid!;
  }

  it("takes over a lock whose process is gone, in either lock format", async () => {
    const dead = await deadPid();
    for (const [name, content] of [
      ["old-format", String(dead)],
      ["new-format", `${dead} some-nonce`],
      ["empty", ""],
    ] as const) {
      const dir = path.join(root, "single", name);
      mkdirSync(path.dirname(dir), { recursive: true });
      writeFileSync(`${dir}.lock`, content);
      const release = acquireDataDirLock(dir);
      expect(() => acquireDataDirLock(dir)).toThrow(DataDirLockedError);
      release();
    }
    // Nothing left behind: no lock, no marker, no file written aside.
    expect(readdirSync(path.join(root, "single"))).toEqual([]);
  });

  it("gives a dead process's lock to exactly one of several processes that find it at once", async () => {
    const base = path.join(root, "race");
    mkdirSync(base);
    const dead = await deadPid();
    const dirs = Array.from({ length: 40 }, (_, i) => path.join(base, `data-${i}`));
    // Half in the format of older versions (a bare pid).
    for (const [i, dir] of dirs.entries()) {
      writeFileSync(`${dir}.lock`, i % 2 ? String(dead) : `${dead} dead-nonce`);
    }

    const script = fileURLToPath(new URL("../support/lock-racer.ts", import.meta.url));
    const racers: ChildProcess[] = [];
    try {
      const lines: AsyncIterator<string>[] = [];
      for (let i = 0; i < 6; i++) {
        const child = spawn(process.execPath, [script, ...dirs], { stdio: ["pipe", "pipe", "inherit"] });
        racers.push(child);
        lines.push(createInterface({ input: child.stdout! })[Symbol.asyncIterator]());
      }
      for (const next of lines) expect((await next.next()).value).toBe("ready");
      // All at once: each racer walks the same 40 stale locks.
      for (const child of racers) child.stdin!.write("go\n");
      const got = await Promise.all(
        lines.map(async (next) => JSON.parse((await next.next()).value) as string[]),
      );

      const owners = dirs.map((dir) => got.filter((mine) => mine.includes(dir)).length);
      expect(owners).toEqual(dirs.map(() => 1));
    } finally {
      for (const child of racers) child.stdin!.end();
      await Promise.all(racers.map((child) => (child.exitCode === null ? once(child, "exit") : undefined)));
    }
    // Each owner released its lock when it exited; no marker or aside file is left.
    expect(readdirSync(base)).toEqual([]);
  });
});
