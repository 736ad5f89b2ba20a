import type { RequestHandler } from "express";
import type { CurrentUser } from "../auth/current-user.ts";
import { isDatabaseUnavailable } from "../db/errors.ts";
import type { StreamLeases } from "../db/stream-leases.ts";
import { sendError } from "./errors.ts";

/**
 * `GET /api/changes`, before the stream opens: takes one of the user's stream slots (shared by every gateway
 * instance) for as long as the response lasts, or answers 429 with Retry-After when all are taken.
 */
export function streamLimit(leases: StreamLeases, maxPerUser: number): RequestHandler {
  return async (_req, res, next) => {
    let ended = false;
    let release: (() => void) | undefined;
    // "close" comes when the response ends or the client goes, whichever is first.
    res.once("close", () => {
      ended = true;
      release?.();
    });
    let verdict: Awaited<ReturnType<StreamLeases["acquire"]>>;
    try {
      verdict = await leases.acquire((res.locals.user as CurrentUser).id);
    } catch (err) {
      if (!isDatabaseUnavailable(err)) throw err;
      res.set("Retry-After", "5");
      sendError(
        res,
        503,
        "database_unavailable",
        "Live changes are unavailable for a moment. Retry shortly.",
      );
      return;
    }
    if ("retryAfterSeconds" in verdict) {
      res.set("Retry-After", String(verdict.retryAfterSeconds));
      sendError(
        res,
        429,
        "too_many_streams",
        `You have ${maxPerUser} live streams open, the most allowed. Close one, or retry in ${verdict.retryAfterSeconds} seconds.`,
      );
      return;
    }
    if (ended) return verdict.release();
    release = verdict.release;
    next();
  };
}
