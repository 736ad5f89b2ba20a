import type { RequestHandler } from "express";
import type { CurrentUser } from "../auth/current-user.ts";
import { isDatabaseUnavailable } from "../db/errors.ts";
import type { StreamLease, StreamLeases } from "../db/stream-leases.ts";
import { sendError } from "./errors.ts";

/**
 * `GET /api/changes`, before the stream opens: takes one of the user's stream slots (shared by every gateway
 * instance) for as long as the response lasts, closing the user's oldest stream if all are taken. The lease
 * goes to the stream handler as `res.locals.streamLease`, which ends the stream when a newer one evicts it.
 */
export function streamLimit(leases: StreamLeases): RequestHandler {
  return async (_req, res, next) => {
    let ended = false;
    let lease: StreamLease | undefined;
    // "close" comes when the response ends or the client goes, whichever is first.
    res.once("close", () => {
      ended = true;
      lease?.release();
    });
    try {
      lease = await leases.acquire((res.locals.user as CurrentUser).id);
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
    if (ended) return lease.release();
    res.locals.streamLease = lease;
    next();
  };
}
