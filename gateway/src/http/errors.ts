import type { ErrorRequestHandler, Response } from "express";
import type { Logger } from "pino";
import type { z } from "zod";
import { AuthUnavailableError, sendAuthUnavailable } from "../auth/current-user.ts";
import { isDatabaseUnavailable } from "../db/errors.ts";
import { TaskServiceError } from "../task-service/errors.ts";

/** An error answered as `{ error: { code, message } }` with its HTTP status. */
export class HttpError extends Error {
  override name = "HttpError";
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function sendError(res: Response, status: number, code: string, message: string) {
  res.status(status).json({ error: { code, message } });
}

/** Parses request input with zod; failures become a 400 that names the offending fields. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const message = result.error.issues
    .slice(0, 5)
    .map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message))
    .join("; ");
  throw new HttpError(400, "invalid_request", message);
}

/** Last handler: every failure answers JSON with a fitting status, and only real faults are logged as errors. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (res.headersSent) {
      res.end();
      return;
    }
    if (err instanceof HttpError) {
      // A 503 is always worth a retry (e.g. the task database dropped the call): say when.
      if (err.status === 503) res.set("Retry-After", "2");
      return sendError(res, err.status, err.code, err.message);
    }
    if (err instanceof AuthUnavailableError) {
      (req.log ?? logger).warn({ err }, "session store unavailable");
      return sendAuthUnavailable(res, err);
    }
    if (err instanceof TaskServiceError) {
      (req.log ?? logger).warn({ err }, "task service call failed");
      return err.unavailable
        ? sendError(res, 503, "task_service_unavailable", err.message)
        : sendError(res, 502, "task_service_error", err.message);
    }
    if (err?.type === "entity.too.large") {
      return sendError(res, 413, "payload_too_large", `The request body is larger than ${err.limit} bytes.`);
    }
    if (err?.type === "entity.parse.failed")
      return sendError(res, 400, "invalid_json", "The request body is not valid JSON.");
    if (typeof err?.status === "number" && err.status >= 400 && err.status < 500) {
      return sendError(res, err.status, "bad_request", String(err.message ?? "Bad request"));
    }
    if (isDatabaseUnavailable(err)) {
      (req.log ?? logger).warn({ err }, "database unavailable");
      res.set("Retry-After", "2");
      return sendError(
        res,
        503,
        "database_unavailable",
        "The database is unavailable for a moment; retry shortly.",
      );
    }
    (req.log ?? logger).error({ err }, "request failed");
    sendError(res, 500, "internal", "Something went wrong on our side.");
  };
}
