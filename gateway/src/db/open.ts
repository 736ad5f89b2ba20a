import type { Config } from "../config.ts";
import { connect, type Database } from "./connect.ts";

/**
 * Connects as configured (Postgres or embedded PGlite) and applies pending migrations. `lock` is the embedded
 * directory's lock when the caller holds it already; the database releases it on close.
 */
export async function openDatabase(
  config: Pick<Config, "database">,
  opts: { lock?: () => void } = {},
): Promise<Database> {
  const database = await connect(
    config.database.kind === "postgres"
      ? { kind: "postgres", url: config.database.url }
      : { kind: "pglite", dir: config.database.dir, lock: opts.lock },
  );
  try {
    await database.migrate();
  } catch (err) {
    await database.close();
    throw err;
  }
  return database;
}
