import { sql } from "drizzle-orm";
import type { RequestHandler } from "express";
import { rateLimit, type Store } from "express-rate-limit";
import { chatTurnCounts } from "../db/chat-schema.ts";
import type { Db } from "../db/connect.ts";

/** The request types that run the model: each is one chat turn. */
export const TURN_TYPES: ReadonlySet<string> = new Set([
  "threads.create",
  "threads.add_user_message",
  "threads.retry_after_item",
  "threads.add_client_tool_output",
  "threads.add_structured_input",
]);

/**
 * A fixed-window counter in Postgres for express-rate-limit: every gateway instance shares it (architecture
 * decision 12), and it runs on PGlite too, which the Postgres stores on npm (node-postgres pools) do not.
 */
export class PostgresWindowStore implements Store {
  readonly localKeys = false;
  readonly prefix = "chat-turn:";
  readonly #db: Db;
  #windowMs = 60_000;

  constructor(db: Db) {
    this.#db = db;
  }

  init(options: { windowMs: number }) {
    this.#windowMs = options.windowMs;
  }

  async increment(key: string) {
    const window = sql`make_interval(secs => ${this.#windowMs / 1000})`;
    const result = await this.#db.execute(sql`
      -- A counter is not worth a disk sync per turn: it commits without waiting for the WAL flush.
      with commit_mode as (select set_config('synchronous_commit', 'off', true))
      insert into ${chatTurnCounts} (key, hits, window_start) select ${this.prefix + key}, 1, now() from commit_mode
      on conflict (key) do update set
        hits = case when ${chatTurnCounts.windowStart} <= now() - ${window} then 1 else ${chatTurnCounts.hits} + 1 end,
        window_start = case when ${chatTurnCounts.windowStart} <= now() - ${window} then now()
                            else ${chatTurnCounts.windowStart} end
      returning hits, window_start`);
    const row = (Array.isArray(result) ? result[0] : (result as { rows: unknown[] }).rows[0]) as {
      hits: number;
      window_start: string | Date;
    };
    return {
      totalHits: Number(row.hits),
      resetTime: new Date(new Date(row.window_start).getTime() + this.#windowMs),
    };
  }

  async decrement(key: string) {
    await this.#db.execute(
      sql`update ${chatTurnCounts} set hits = greatest(hits - 1, 0) where key = ${this.prefix + key}`,
    );
  }

  async resetKey(key: string) {
    await this.#db.execute(sql`delete from ${chatTurnCounts} where key = ${this.prefix + key}`);
  }
}

/**
 * Per-user limit on chat turns. Over the limit the request still goes on, marked: the ChatKit server saves
 * what the user typed and answers with a clear `error` event, which the chat shows in place.
 */
export function chatTurnLimit(db: Db, perMinute: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: "draft-8",
    legacyHeaders: false,
    store: new PostgresWindowStore(db),
    passOnStoreError: true,
    skip: (req) => !TURN_TYPES.has((req.body as { type?: unknown } | undefined)?.type as string),
    keyGenerator: (_req, res) => (res.locals.user as { id: string }).id,
    handler: (_req, res, next) => {
      res.locals.chatTurnLimited = true;
      next();
    },
  });
}

/** Removes counters whose window ended long ago (the retention sweep calls this). */
export async function deleteStaleTurnCounts(db: Db): Promise<void> {
  await db.execute(sql`delete from ${chatTurnCounts} where window_start < now() - interval '1 day'`);
}
