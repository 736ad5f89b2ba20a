import express, { type RequestHandler, type Response } from "express";
import type { ChatAgent } from "../agent/contract.ts";
import { currentUser } from "../auth/current-user.ts";
import type { Db } from "../db/connect.ts";
import type { Logger } from "../logger.ts";
import { storableJson } from "../mcp-server/schemas.ts";
import { TaskServiceError } from "../task-service/errors.ts";
import type { TaskCaller } from "./actions.ts";
import { ChatKitError } from "./errors.ts";
import { requestLocale } from "./locale.ts";
import { requestMetadataSchema } from "./page-context.ts";
import { chatTurnLimit, turnLimited } from "./rate-limit.ts";
import { createChatKitServer } from "./server.ts";
import { createChatStore } from "./store.ts";
import { errorEvent } from "./stream.ts";
import { type ChatKitRequest, chatKitRequest, REQUEST_TYPES, type ThreadStreamEvent } from "./types.ts";

export type ChatKitOptions = {
  db: Db;
  agent: ChatAgent;
  tasks: TaskCaller;
  logger: Logger;
  /** Runs before the ChatKit handler and sets `res.locals.user` (the bearer session, as on /api). */
  signedIn: RequestHandler;
  turnsPerMinute: number;
};

const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform",
  "x-accel-buffering": "no",
};

/** Server output: `null` fields are left out everywhere, as the reference serializer does (exclude_none). */
export const serialize = (value: unknown) => JSON.stringify(value, (_key, v) => (v === null ? undefined : v));

function fail(status: number, code: string, message: string): never {
  throw new ChatKitError(status, code, message);
}

/** Validates a request body: 400 with a message for anything that is not one of the 16 request types. */
export function parseChatKitRequest(body: unknown): ChatKitRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    fail(
      400,
      "invalid_request",
      "Send a JSON object with `type` and `params` (Content-Type: application/json).",
    );
  }
  const type = (body as { type?: unknown }).type;
  if (typeof type !== "string") fail(400, "invalid_request", "The request has no `type`.");
  if (!REQUEST_TYPES.includes(type)) {
    fail(
      400,
      "unknown_request_type",
      `Unknown request type "${type.slice(0, 60)}". Known: ${REQUEST_TYPES.join(", ")}.`,
    );
  }
  // Threads and items are stored as jsonb, which refuses both: a clear 400 instead of a failed write.
  if (!storableJson(body)) {
    fail(
      400,
      "invalid_request",
      "Remove the NUL character or broken Unicode (a lone surrogate) from the request.",
    );
  }
  const parsed = chatKitRequest.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message));
    fail(400, "invalid_request", `Invalid ${type} request: ${issues.join("; ")}`);
  }
  return parsed.data;
}

function sendError(res: Response, status: number, code: string, message: string) {
  res.status(status).json({ error: { code, message } });
}

/** `POST /chatkit`: the ChatKit protocol for the signed-in user. `close()` aborts the turns in flight. */
export function createChatKitRouter(opts: ChatKitOptions) {
  const server = createChatKitServer({ agent: opts.agent, tasks: opts.tasks });
  const inFlight = new Set<AbortController>();
  const router = express.Router();

  router.post(
    "/chatkit",
    opts.signedIn,
    chatTurnLimit(opts.db, opts.turnsPerMinute, opts.logger),
    async (req, res, next) => {
      const log = (req.log as Logger | undefined) ?? opts.logger;
      const controller = new AbortController();
      // The client went away before the answer ended: stop the run (the stream loop keeps what was shown).
      res.on("close", () => {
        if (!res.writableFinished) controller.abort(new Error("client disconnected"));
        inFlight.delete(controller);
      });
      inFlight.add(controller);
      const limited = turnLimited(res);
      try {
        const request = parseChatKitRequest(req.body);
        const metadata = requestMetadataSchema.safeParse(request.metadata);
        if (!metadata.success) {
          const issue = metadata.error.issues[0];
          fail(400, "invalid_request", `metadata.${issue?.path.join(".")}: ${issue?.message}`);
        }
        const user = currentUser(res);
        const result = await server.process(
          {
            user: { id: user.id, timezone: user.timezone },
            locale: requestLocale(metadata.data.locale, req.acceptsLanguages()),
            store: createChatStore(opts.db, user.id),
            page: metadata.data.page ?? undefined,
            signal: controller.signal,
            log,
            turnLimited: limited,
            turnsPerMinute: opts.turnsPerMinute,
          },
          request,
        );
        // The turn count's headers go out with the response; the count ran beside the request's own statements.
        await limited;
        if ("json" in result) {
          res.type("application/json").send(serialize(result.json));
          return;
        }
        res.writeHead(200, SSE_HEADERS);
        res.flushHeaders();
        req.socket.setNoDelay(true);
        await writeStream(res, result.stream, log);
      } catch (err) {
        if (res.headersSent) {
          res.end();
          return;
        }
        await limited;
        if (err instanceof ChatKitError) return sendError(res, err.status, err.code, err.message);
        if (err instanceof TaskServiceError) {
          log.warn({ err }, "task service call failed");
          return err.unavailable
            ? sendError(res, 503, "task_service_unavailable", err.message)
            : sendError(res, 502, "task_service_error", err.message);
        }
        next(err);
      } finally {
        inFlight.delete(controller);
      }
    },
  );

  return {
    router,
    close() {
      for (const controller of inFlight) controller.abort(new Error("server shutting down"));
    },
  };
}

/** Writes each event as `data: <json>\n\n`; after a disconnect it keeps draining so cleanup runs. */
async function writeStream(res: Response, events: AsyncIterable<ThreadStreamEvent>, log: Logger) {
  // Events that are ready together (nothing awaited between them but other events) leave in one socket write:
  // the response is corked until the microtasks running now are done. Events a database or tool call apart
  // still leave as they happen.
  const send = (event: ThreadStreamEvent) => {
    if (res.writableEnded || res.destroyed) return;
    if (!res.writableCorked) {
      res.cork();
      process.nextTick(() => res.uncork());
    }
    res.write(`data: ${serialize(event)}\n\n`);
  };
  try {
    for await (const event of events) send(event);
  } catch (err) {
    // Only the server-owned prefix (before the stream loop) can throw here; the loop turns its own failures
    // into error events.
    send(errorEvent(err, log));
  }
  // end() does not wait for a pending uncork: its last chunk would go out before the corked events.
  while (res.writableCorked) res.uncork();
  res.end();
}
