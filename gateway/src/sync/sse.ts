import type { Request, RequestHandler, Response } from "express";
import type { CurrentSession } from "../auth/current-user.ts";
import type { StreamLease } from "../db/stream-leases.ts";
import type { ChangeEvent, ChangeFeed } from "./change-feed.ts";
import type { CloseReason, StreamRegistry } from "./streams.ts";

const SSE_HEADERS = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache, no-transform",
  // nginx and friends would otherwise buffer the stream.
  "x-accel-buffering": "no",
};

/**
 * `GET /api/changes`: the signed-in user's task changes as Server-Sent Events. Mount after the auth
 * middleware that sets `res.locals.user`. Resumes after `Last-Event-ID` (EventSource sends it on
 * reconnect) or `?after=<seq>`; with neither, starts at the user's latest seq and sends nothing old.
 * Sends `event: ready` (id = the resume seq) first, then `event: change` per change, `: ping` comments
 * every `heartbeatMs`, and `event: shutdown` before ending when the feed closes.
 */
export type ChangesOptions = {
  streams: StreamRegistry;
  heartbeatMs?: number;
  /** A client that lets more than this pile up unread is cut off (it stopped reading). */
  maxBufferedBytes?: number;
};

/**
 * Streams end with `event: closed` (`data: {"reason"}`) when their session ends (signed_out), expires, or
 * the user opened too many newer ones (too_many_streams, with `res.locals.streamLease`: http/stream-limit.ts).
 * A client then reconnects with its token, or gets a 401; after too_many_streams it waits for its user, since
 * reconnecting would close the next-oldest stream.
 */
export function changesHandler(feed: ChangeFeed, opts: ChangesOptions): RequestHandler {
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const maxBuffered = opts.maxBufferedBytes ?? 1024 * 1024;
  return async (req, res) => {
    const user = res.locals.user as { id: string } | undefined;
    const session = res.locals.session as CurrentSession | undefined;
    if (!user || !session) {
      sendError(res, 401, "unauthorized", "Sign in to follow changes.");
      return;
    }
    const resume = resumeSeq(req);
    if (resume === "invalid") {
      sendError(res, 400, "invalid_request", "Last-Event-ID and `after` must be a change sequence number.");
      return;
    }

    let closed = false;
    let cleanup: (() => void) | undefined;
    res.on("close", () => {
      closed = true;
      cleanup?.();
    });
    const after = resume ?? (await feed.latestSeq(user.id));
    if (closed) return; // the client left while we looked up where to start

    res.writeHead(200, SSE_HEADERS);
    res.flushHeaders();
    req.socket.setNoDelay(true);
    res.write(`id: ${after}\nevent: ready\ndata: ${JSON.stringify({ seq: after })}\n\n`);

    // Node buffers what the socket can't take yet; past the bound the reader has stopped: cut it off.
    const write = (chunk: string) => {
      if (closed) return;
      res.write(chunk);
      if (res.writableLength > maxBuffered) res.destroy();
    };
    const end = (chunk: string) => {
      if (closed) return;
      cleanup?.();
      res.end(chunk);
    };
    const heartbeat = setInterval(() => write(": ping\n\n"), heartbeatMs);
    const close = (reason: CloseReason) => end(`event: closed\ndata: ${JSON.stringify({ reason })}\n\n`);
    const untilExpiry = Math.min(2 ** 31 - 1, Math.max(0, session.expiresAt.getTime() - Date.now()));
    const expiry = setTimeout(() => close("session_expired"), untilExpiry);
    const unsubscribe = feed.subscribe(
      user.id,
      after,
      (events) => write(formatChanges(events)),
      () => end("event: shutdown\ndata: {}\n\n"),
    );
    const unregister = opts.streams.add({ userId: user.id, sessionId: session.id, close });
    (res.locals.streamLease as StreamLease | undefined)?.onEvicted(() => close("too_many_streams"));
    cleanup = () => {
      clearInterval(heartbeat);
      clearTimeout(expiry);
      unsubscribe();
      unregister();
    };
  };
}

/** The resume point, or undefined for "now". The header wins: EventSource keeps the original `?after`. */
function resumeSeq(req: Request): number | undefined | "invalid" {
  const header = req.get("last-event-id");
  const raw = header !== undefined && header !== "" ? header : req.query.after;
  if (raw === undefined) return undefined;
  if (typeof raw !== "string" || !/^\d{1,16}$/.test(raw)) return "invalid";
  const seq = Number(raw);
  return Number.isSafeInteger(seq) ? seq : "invalid";
}

function formatChanges(events: ChangeEvent[]): string {
  return events.map((e) => `id: ${e.seq}\nevent: change\ndata: ${JSON.stringify(e)}\n\n`).join("");
}

function sendError(res: Response, status: number, code: string, message: string) {
  res.status(status).json({ error: { code, message } });
}
