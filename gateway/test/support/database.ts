import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { connect, type Database } from "../../src/db/connect.ts";

/** Which database the suite runs on: `TEST_DB=pglite` for embedded PGlite, else the local Postgres server. */
export const testDbKind: "postgres" | "pglite" = process.env.TEST_DB === "pglite" ? "pglite" : "postgres";
const adminUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export type TestDatabase = Database & {
  /** Connection URL of the throwaway database (Postgres only). */
  url: string | undefined;
  /** Closes the connection and drops the throwaway database. */
  destroy(): Promise<void>;
};

/** A fresh, migrated database of its own for one test file. */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (testDbKind === "pglite") {
    const database = await connect({ kind: "pglite", dir: undefined });
    await database.migrate();
    return { ...database, url: undefined, destroy: () => database.close() };
  }
  const name = `margin_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = await connect({ kind: "postgres", url: url.href });
  await database.migrate();
  return {
    ...database,
    url: url.href,
    async destroy() {
      await database.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/**
 * Accounts with these ids, made directly in the user table: every row of task or chat data references its user,
 * and tests that drive the MCP server or the repository directly never sign up.
 */
export async function ensureUsers(database: Pick<Database, "db">, ...ids: string[]): Promise<void> {
  for (const id of ids) {
    await database.db.execute(sql`insert into "user" (id, name, email, email_verified, created_at, updated_at)
      values (${id}, ${id}, ${`${id}@users.test`}, false, now(), now()) on conflict do nothing`);
  }
}
