import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { connect } from "../../src/db/connect.ts";
import { DataDirLockedError } from "../../src/db/data-dir-lock.ts";
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
