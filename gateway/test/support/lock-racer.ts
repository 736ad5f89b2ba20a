// One of several processes racing for the same data-directory locks (test/tasks/data-dir-lock.test.ts).
// Prints "ready", waits for "go" on stdin, tries every lock named on the command line, prints which it got,
// and holds them until stdin ends. Usage: node test/support/lock-racer.ts <dir>...
import { createInterface } from "node:readline";
import { acquireDataDirLock, DataDirLockedError } from "../../src/db/data-dir-lock.ts";

const dirs = process.argv.slice(2);
const lines = createInterface({ input: process.stdin });
process.stdout.write("ready\n");
lines.once("line", () => {
  const got: string[] = [];
  for (const dir of dirs) {
    try {
      acquireDataDirLock(dir);
      got.push(dir);
    } catch (err) {
      if (!(err instanceof DataDirLockedError)) throw err;
    }
  }
  process.stdout.write(`${JSON.stringify(got)}\n`);
});
lines.once("close", () => process.exit(0));
