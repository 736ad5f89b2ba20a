import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { btree_gin } from "@electric-sql/pglite/contrib/btree_gin";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { createLogger } from "../logger.ts";
import { acquireDataDirLock } from "./data-dir-lock.ts";
import * as schema from "./schema.ts";

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export type Database = {
  kind: "postgres" | "pglite";
  db: Db;
  /** Applies pending migrations (idempotent; serialised across processes). */
  migrate(): Promise<void>;
  /**
   * LISTEN on a channel. `onListen` runs each time the listen is (re)established: notifications sent
   * while disconnected are lost, so callers resync from the table then.
   */
  listen(
    channel: string,
    onNotify: (payload: string) => void,
    onListen?: () => void,
  ): Promise<() => Promise<void>>;
  close(): Promise<void>;
};

/** `db.execute`'s rows: postgres.js returns them as an array, PGlite as a result with `rows`. */
export function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : ((result as { rows?: T[] }).rows ?? [])) as T[];
}

export type ConnectOptions =
  | { kind: "postgres"; url: string; max?: number }
  | {
      kind: "pglite";
      dir: string | undefined /* undefined = in memory */;
      /** The directory's lock, when the caller took it already (`margin start`, before building); released on close. */
      lock?: () => void;
    };

export const migrationsFolder = fileURLToPath(new URL("../../drizzle", import.meta.url));

// Any fixed 64-bit key, so concurrent `margin` processes apply migrations one at a time.
const MIGRATION_LOCK_KEY = 7_244_417_001;

export async function connect(opts: ConnectOptions): Promise<Database> {
  return opts.kind === "postgres"
    ? connectPostgres(opts.url, opts.max ?? 10)
    : connectPglite(opts.dir, opts.lock);
}

/** The catalog query postgres.js runs on every new connection to learn the array types (`fetch_types`). */
const ARRAY_TYPES_QUERY = /from pg_catalog\.pg_type a\b[\s\S]*typcategory = 'A'/;

let typeFetchGuarded = false;

/**
 * postgres.js starts that query on each new connection and drops its promise (porsager/postgres #1192, #1205,
 * #1223, open in 3.4.9): a connection killed at that moment (a restart, a failover, pg_terminate_backend)
 * rejects it with nobody listening, and Node ends the process on an unhandled rejection. The failure itself is
 * harmless: the driver reconnects and fetches again, and the caller's own query fails or succeeds on its own.
 * So that one rejection is logged and the process lives; any other unhandled rejection still ends it, as Node
 * would (unless another handler, e.g. a test runner's, takes it).
 */
function guardTypeFetch(): void {
  if (typeFetchGuarded) return;
  typeFetchGuarded = true;
  const log = createLogger("error", { name: "margin-db", fd: 2 });
  process.on("unhandledRejection", function onUnhandled(reason) {
    const query = (reason as { query?: unknown } | null)?.query;
    if (typeof query === "string" && ARRAY_TYPES_QUERY.test(query)) {
      log.error({ err: reason }, "a database connection failed while starting; the driver reconnects");
      return;
    }
    if (process.listeners("unhandledRejection").every((listener) => listener === onUnhandled)) throw reason;
  });
}

function connectPostgres(url: string, max: number): Database {
  guardTypeFetch();
  const client = postgres(url, {
    max,
    onnotice: () => {},
    connection: {
      application_name: "margin",
      // Prepared statements skip parsing but are planned on every run. A cached generic plan is fixed once:
      // made on a fresh install's near-empty tables it scans and sorts a user's whole list once the tasks are
      // many (until autovacuum's next ANALYZE), and one plan can't serve both a rare search term and a common one.
      plan_cache_mode: "force_custom_plan",
    },
  });
  let listener: postgres.Sql | undefined;
  const db = drizzlePostgres(client, { schema });
  return {
    kind: "postgres",
    db,
    async migrate() {
      const lock = await client.reserve();
      try {
        await lock`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
        await migratePostgres(db, { migrationsFolder });
      } finally {
        await lock`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => {});
        lock.release();
      }
    },
    async listen(channel, onNotify, onListen) {
      // postgres.js keeps LISTEN on its own dedicated connection and re-listens after reconnects.
      listener ??= postgres(url, {
        max: 1,
        onnotice: () => {},
        connection: { application_name: "margin-listen" },
      });
      const sub = await listener.listen(channel, onNotify, onListen);
      return () => sub.unlisten();
    },
    async close() {
      await Promise.all([client.end({ timeout: 5 }), listener?.end({ timeout: 5 })]);
    },
  };
}

async function connectPglite(dir: string | undefined, lock?: () => void): Promise<Database> {
  let releaseLock = lock;
  if (dir && !releaseLock) {
    mkdirSync(path.dirname(dir), { recursive: true });
    releaseLock = acquireDataDirLock(dir);
  }
  let client: PGlite;
  try {
    // The extensions the migrations create (task search); PGlite bundles them, nothing is downloaded.
    client = await PGlite.create(dir, { extensions: { pg_trgm, btree_gin } });
  } catch (err) {
    releaseLock?.();
    throw err;
  }
  const db = drizzlePglite(client, { schema });
  return {
    kind: "pglite",
    db,
    migrate: () => migratePglite(db, { migrationsFolder }),
    async listen(channel, onNotify, onListen) {
      const unlisten = await client.listen(channel, onNotify);
      onListen?.();
      return unlisten;
    },
    async close() {
      await client.close();
      releaseLock?.();
    },
  };
}
