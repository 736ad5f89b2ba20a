import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import type { RequestHandler, Response } from "express";
import { chatTurnCounts } from "../db/chat-schema.ts";
import { type Db, rowsOf } from "../db/connect.ts";
import type { Logger } from "../logger.ts";

/** The request types that run the model: each is one chat turn. */
export const TURN_TYPES: ReadonlySet<string> = new Set([
  "threads.create",
  "threads.add_user_message",
  "threads.retry_after_item",
  "threads.add_client_tool_output",
  "threads.add_structured_input",
]);

const WINDOW_MS = 60_000;
const KEY_PREFIX = "chat-turn:";

/**
 * A fixed-window counter per user in Postgres: every gateway instance shares it (architecture decision 12), and
 * it runs on PGlite too. Returns the hits in the current window and when the window ends.
 */
async function countTurn(db: Db, userId: string): Promise<{ hits: number; resetTime: Date }> {
  const window = sql`make_interval(secs => ${WINDOW_MS / 1000})`;
  const result = await db.execute(sql`
    -- A counter is not worth a disk sync per turn: it commits without waiting for the WAL flush.
    with commit_mode as (select set_config('synchronous_commit', 'off', true))
    insert into ${chatTurnCounts} (key, hits, window_start) select ${KEY_PREFIX + userId}, 1, now() from commit_mode
    on conflict (key) do update set
      hits = case when ${chatTurnCounts.windowStart} <= now() - ${window} then 1 else ${chatTurnCounts.hits} + 1 end,
      window_start = case when ${chatTurnCounts.windowStart} <= now() - ${window} then now()
                          else ${chatTurnCounts.windowStart} end
    returning hits, window_start`);
  const [row] = rowsOf<{ hits: number; window_start: string | Date }>(result);
  return { hits: Number(row!.hits), resetTime: new Date(new Date(row!.window_start).getTime() + WINDOW_MS) };
}

/** The IETF draft-8 headers (as express-rate-limit wrote them), and Retry-After once over the limit. */
function setLimitHeaders(res: Response, userId: string, limit: number, hits: number, resetTime: Date) {
  if (res.headersSent) return;
  const name = `${limit}-in-${WINDOW_MS / 60_000}min`;
  const resetSeconds = Math.max(0, Math.ceil((resetTime.getTime() - Date.now()) / 1000));
  const partitionKey = Buffer.from(createHash("sha256").update(userId).digest("hex").slice(0, 12)).toString(
    "base64",
  );
  res.append("RateLimit", `"${name}"; r=${Math.max(limit - hits, 0)}; t=${resetSeconds}`);
  res.append("RateLimit-Policy", `"${name}"; q=${limit}; w=${WINDOW_MS / 1000}; pk=:${partitionKey}:`);
  if (hits > limit) res.setHeader("Retry-After", String(resetSeconds));
}

/**
 * Per-user limit on chat turns. Over the limit the request still goes on, marked: the ChatKit server saves
 * what the user typed and answers with a clear `error` event, which the chat shows in place.
 *
 * The count runs beside the request instead of before it (one round trip less on the way to the first
 * event): `turnLimited(res)` resolves once it is in, with the headers set. Nothing runs the model before that.
 * A failed count lets the turn through, logged.
 */
export function chatTurnLimit(db: Db, perMinute: number, logger: Logger): RequestHandler {
  return (req, res, next) => {
    if (TURN_TYPES.has((req.body as { type?: unknown } | undefined)?.type as string)) {
      const userId = (res.locals.user as { id: string }).id;
      res.locals.chatTurnLimited = countTurn(db, userId).then(
        ({ hits, resetTime }) => {
          setLimitHeaders(res, userId, perMinute, hits, resetTime);
          return hits > perMinute;
        },
        (err: unknown) => {
          ((req.log as Logger | undefined) ?? logger).error(
            { err },
            "chat turn not counted; the turn goes on without the limit",
          );
          return false;
        },
      );
    }
    next();
  };
}

/** Whether this request's turn is over the limit (false for requests that are not turns). */
export const turnLimited = (res: Response): Promise<boolean> =>
  (res.locals.chatTurnLimited as Promise<boolean> | undefined) ?? Promise.resolve(false);

/** Removes counters whose window ended long ago (the retention sweep calls this). */
export async function deleteStaleTurnCounts(db: Db): Promise<void> {
  await db.execute(sql`delete from ${chatTurnCounts} where window_start < now() - interval '1 day'`);
}
