import type { Config } from "../config.ts";
import { connect, type Database } from "./connect.ts";

/** Connects as configured (Postgres or embedded PGlite) and applies pending migrations. */
export async function openDatabase(config: Pick<Config, "database">): Promise<Database> {
  const database = await connect(
    config.database.kind === "postgres"
      ? { kind: "postgres", url: config.database.url }
      : { kind: "pglite", dir: config.database.dir },
  );
  try {
    await database.migrate();
  } catch (err) {
    await database.close();
    throw err;
  }
  return database;
}
