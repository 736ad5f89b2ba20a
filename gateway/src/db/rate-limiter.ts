import { type RateLimiterAbstract, RateLimiterDrizzle, RateLimiterMemory } from "rate-limiter-flexible";
import type { Db } from "./connect.ts";
import { rateLimits } from "./limits-schema.ts";

export type LimiterOptions = { keyPrefix: string; points: number; duration: number };

/**
 * A rate limiter whose counters live in Postgres (`rate_limits`) when a database is given, so every gateway
 * instance spends the same budget; in memory otherwise (unit tests, a single process). When the database
 * fails, the limiter falls back to an in-memory one with the same budget instead of refusing everyone.
 */
export function createRateLimiter(db: Db | undefined, opts: LimiterOptions): RateLimiterAbstract {
  if (!db) return new RateLimiterMemory(opts);
  return new RateLimiterDrizzle({
    ...opts,
    storeClient: db,
    schema: rateLimits,
    insuranceLimiter: new RateLimiterMemory(opts),
  });
}
