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
  /** Gives unspent leases back to the shared budget. */
  close(): Promise<void>;
};

export type WriteBudgetOptions = {
  /** How long a lease may sit unused before its rest goes back to the shared budget. */
  idleReturnMs?: number;
  now?: () => number;
};

/** Part of a user's shared budget this instance has taken from the store and spends locally. */
type Lease = { left: number; until: number; idle: NodeJS.Timeout };

/** A lease is returned only while its window surely still runs: a return after the reset would add budget. */
const RETURN_SAFETY_MS = 1000;

/**
 * With a database, each instance takes a user's budget from the store in leases (a twentieth of it, at most 50
 * writes; 1 for budgets under 40) and spends them in-process. A write then costs no store round trip and no
 * lock on the user's counter row, except once per lease. The budget is never exceeded across instances: a
 * lease is spent in the store when it is taken. The price is that another instance may refuse writes early, by
 * at most the unspent part of this instance's lease, and only until that part goes back after `idleReturnMs`.
 */
export function createWriteBudget(perMinute: number, db?: Db, opts: WriteBudgetOptions = {}): WriteBudget {
  const limiter = createRateLimiter(db, { keyPrefix: "writes", points: perMinute, duration: 60 });
  const leaseSize = db ? Math.max(1, Math.min(50, Math.floor(perMinute / 20))) : 1;
  const idleReturnMs = opts.idleReturnMs ?? 1000;
  const now = opts.now ?? Date.now;
  const leases = new Map<string, Lease>();
  const refills = new Map<string, Promise<Verdict>>();

  /** Spends `n` from the store itself; a refused attempt spends nothing. */
  const consume = async (userId: string, n: number): Promise<{ until: number } | { refused: Verdict }> => {
    try {
      const res = await limiter.consume(userId, n);
      return { until: now() + res.msBeforeNext };
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      await limiter.reward(userId, n);
      return { refused: { retryAfterSeconds: Math.max(1, Math.ceil(err.msBeforeNext / 1000)) } };
    }
  };

  const giveBack = async (userId: string) => {
    const lease = leases.get(userId);
    if (!lease) return;
    // A refill in flight counts this lease's rest as its own: look again later.
    if (refills.has(userId)) return void lease.idle.refresh();
    leases.delete(userId);
    clearTimeout(lease.idle);
    if (lease.left > 0 && lease.until - now() > RETURN_SAFETY_MS) await limiter.reward(userId, lease.left);
  };

  /** Takes a new lease covering `n` (a bigger one when the budget allows), keeping what is left of the old. */
  const refill = async (userId: string, n: number): Promise<Verdict> => {
    const old = leases.get(userId);
    const held = old && old.until > now() ? old.left : 0;
    const missing = n - held;
    let verdict: Verdict = null;
    for (const size of missing < leaseSize ? [leaseSize, missing] : [missing]) {
      const taken = await consume(userId, size);
      if ("refused" in taken) {
        verdict = taken.refused;
        continue;
      }
      if (old) clearTimeout(old.idle);
      const idle = setTimeout(() => void giveBack(userId).catch(() => {}), idleReturnMs);
      idle.unref();
      leases.set(userId, { left: held + size, until: taken.until, idle });
      return null;
    }
    return verdict;
  };

  const take: WriteBudget["take"] = async (userId, n) => {
    if (n <= 0) return null;
    for (;;) {
      const lease = leases.get(userId);
      if (lease && lease.left >= n && lease.until > now()) {
        lease.left -= n;
        lease.idle.refresh();
        return null;
      }
      // One refill per user at a time; the others wait for it, then look at the lease again.
      const pending = refills.get(userId);
      if (pending) {
        await pending;
        continue;
      }
      const started = refill(userId, n).finally(() => refills.delete(userId));
      refills.set(userId, started);
      const verdict = await started;
      if (verdict) return verdict;
    }
  };
  return {
    take,
    perRequest: async (_req, res, next) => {
      const verdict = await take((res.locals.user as CurrentUser).id, 1);
      if (!verdict) return next();
      sendWriteLimited(res, verdict.retryAfterSeconds);
    },
    async close() {
      await Promise.allSettled([...leases.keys()].map(giveBack));
    },
  };
}

type Verdict = { retryAfterSeconds: number } | null;

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
