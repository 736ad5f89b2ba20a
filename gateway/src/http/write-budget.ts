import type { RequestHandler, Response } from "express";
import { RateLimiterRes } from "rate-limiter-flexible";
import type { CurrentUser } from "../auth/current-user.ts";
import type { Db } from "../db/connect.ts";
import { createRateLimiter } from "../db/rate-limiter.ts";
import { tools } from "../mcp-server/tools/index.ts";

/** Tools that change nothing; every other tool call (unknown names included) spends the write budget. */
const READ_ONLY_TOOLS = new Set(tools.filter((t) => t.annotations.readOnlyHint).map((t) => t.name));

/**
 * One per-user budget of task writes per minute, spent by REST writes and by `/mcp` tool calls alike
 * (each call in a JSON-RPC batch counts). With a database, every gateway instance spends the same budget.
 */
export type WriteBudget = {
  /** Spends `n` writes of the user's budget; null when allowed, else the seconds to wait. */
  take(userId: string, n: number): Promise<{ retryAfterSeconds: number } | null>;
  /** REST: one write per request, as the signed-in user (`res.locals.user`). */
  perRequest: RequestHandler;
};

export function createWriteBudget(perMinute: number, db?: Db): WriteBudget {
  const limiter = createRateLimiter(db, { keyPrefix: "writes", points: perMinute, duration: 60 });
  const take: WriteBudget["take"] = async (userId, n) => {
    if (n <= 0) return null;
    try {
      await limiter.consume(userId, n);
      return null;
    } catch (err) {
      if (err instanceof RateLimiterRes) {
        // A refused batch spends nothing: give back what this attempt added.
        await limiter.reward(userId, n);
        return { retryAfterSeconds: Math.max(1, Math.ceil(err.msBeforeNext / 1000)) };
      }
      throw err;
    }
  };
  return {
    take,
    perRequest: async (_req, res, next) => {
      const verdict = await take((res.locals.user as CurrentUser).id, 1);
      if (!verdict) return next();
      sendWriteLimited(res, verdict.retryAfterSeconds);
    },
  };
}

export function sendWriteLimited(res: Response, retryAfterSeconds: number) {
  res
    .status(429)
    .set("Retry-After", String(retryAfterSeconds))
    .json({
      error: {
        code: "rate_limited",
        message: `Too many changes in a minute. Wait ${retryAfterSeconds} seconds and retry.`,
      },
    });
}

/** How many write-tool calls a JSON-RPC message (or batch) holds. */
export function countToolWrites(message: unknown): number {
  const calls = Array.isArray(message) ? message : [message];
  let n = 0;
  for (const call of calls) {
    if (!call || typeof call !== "object") continue;
    const { method, params } = call as { method?: unknown; params?: { name?: unknown } };
    if (method !== "tools/call") continue;
    const name = params && typeof params === "object" ? params.name : undefined;
    if (typeof name !== "string" || !READ_ONLY_TOOLS.has(name)) n++;
  }
  return n;
}
