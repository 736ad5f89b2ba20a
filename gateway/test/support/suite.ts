import { afterAll, beforeAll } from "vitest";
import { createTestDatabase, type TestDatabase } from "./database.ts";

/**
 * Stands in for a value that exists only from the file's beforeAll to its afterAll, so that a test file can
 * name it at its top level: every property read goes to the value live at that moment (reads only: spreading
 * the stand-in gives nothing).
 */
function live<T extends object>(current: () => T | undefined): T {
  return new Proxy({} as T, {
    get(_, key) {
      const value = current();
      if (value === undefined)
        throw new Error("read before the file's beforeAll made it (or after afterAll)");
      return Reflect.get(value, key);
    },
  });
}

/** A fresh test database for the file's tests, dropped after them. */
export function databaseForFile(): TestDatabase {
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.destroy();
  });
  return live(() => database);
}

/**
 * A fresh test database and what `start` builds on it, for the file's tests; both closed after them. Hooks the file
 * registers later run after these start and before they close (vitest stacks after-hooks).
 */
export function databaseForFileWith<T extends { close(): Promise<void> }>(
  start: (database: TestDatabase) => Promise<T>,
): { database: TestDatabase; started: T } {
  let database: TestDatabase | undefined;
  let started: T | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
    started = await start(database);
  });
  afterAll(async () => {
    await started?.close();
    await database?.destroy();
  });
  return { database: live(() => database), started: live(() => started) };
}
