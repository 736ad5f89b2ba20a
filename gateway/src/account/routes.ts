import { randomBytes } from "node:crypto";
import express, {
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
  Router,
} from "express";
import { z } from "zod";
import type { Auth } from "../auth/auth.ts";
import { type CurrentUser, currentUser } from "../auth/current-user.ts";
import type { AuthThrottle } from "../auth/throttle.ts";
import type { Db } from "../db/connect.ts";
import { HttpError, parseInput } from "../http/errors.ts";
import { disconnectApp, listConnections } from "../oauth/connections.ts";
import type { TaskServiceClient } from "../task-service/client.ts";
import { confirmPassword, deleteAccount } from "./deletion.ts";
import { AccountActionError } from "./errors.ts";
import { exportAccount } from "./export.ts";
import {
  fromMarginExport,
  importEntries,
  importTooLarge,
  MAX_IMPORT_BYTES,
  MAX_IMPORT_TASKS,
  MarginImportFile,
} from "./import.ts";
import { type AccountPageView, accountPageHeaders, renderAccountPage } from "./page.ts";
import { checkPageRequest, cookieSession, csrfToken, type PageSession } from "./page-session.ts";
import { fromTodoistCsv, toTodoistCsv } from "./todoist.ts";

export type AccountRouterOptions = {
  auth: Auth;
  /** The API's bearer-session check (requireSession), shared with the other /api routes. */
  signedIn: RequestHandler;
  db: Db;
  tasks: TaskServiceClient;
  throttle: AuthThrottle;
  publicUrl: URL;
  /** The per-user write budget: an import is one write request, whatever its size. */
  limitWrites: RequestHandler;
};

const ExportQuery = z.object({ format: z.enum(["json", "csv"]).default("json") }).strict();
const DisconnectForm = z.object({ client_id: z.string().min(1).max(200) });
const DeleteBody = z.object({
  password: z.string().min(1, "password: give the account's password").max(256),
});

/**
 * Your data out, your data in, your account gone: the API (bearer session, like every /api route) and the
 * account page (cookie session, same origin + CSRF token). Mount before the global JSON parser: the import
 * reads its own, larger body.
 */
export function createAccountRouter(opts: AccountRouterOptions): Router {
  const router = Router();
  const { signedIn } = opts;
  const importJson = express.json({ limit: MAX_IMPORT_BYTES });
  const importText = express.text({ type: ["text/csv", "text/plain"], limit: MAX_IMPORT_BYTES });
  // A body sent without a length (chunked) meets the parsers' limit rather than the gateway's length check.
  const importBody: RequestHandler = (req, res, next) => {
    const done = (err?: unknown) =>
      next((err as { type?: unknown } | undefined)?.type === "entity.too.large" ? importTooLarge() : err);
    importJson(req, res, (err) => (err ? done(err) : importText(req, res, done)));
  };

  // ---- API ----
  router.get("/api/export", signedIn, async (req, res) => {
    const { format } = parseInput(ExportQuery, req.query);
    await sendExport(res, opts, currentUser(res), format);
  });

  router.post("/api/import", signedIn, opts.limitWrites, importBody, async (req, res) => {
    res.json(await runImport(req, opts, currentUser(res)));
  });

  router.delete("/api/account", signedIn, express.json({ limit: "4kb" }), async (req, res) => {
    const { password } = parseInput(DeleteBody, req.body ?? {});
    const user = currentUser(res);
    await confirmPassword(opts.auth, opts.throttle, { ...user, ip: clientIp(req) }, password);
    await deleteAccount(opts.db, user.id);
    res.json({ deleted: true });
  });

  // ---- the account page ----
  router.get("/account", async (req, res) => {
    // The page's links are relative (it may sit under a path prefix): from "/account/" they would miss.
    if (req.path.endsWith("/")) return res.redirect(301, "../account");
    const session = await cookieSession(opts.auth, req);
    await sendPage(res, session ? await signedInView(opts, session) : { kind: "signed-out" });
  });

  // Reached only when the page's script did not run: the password must not be echoed or kept anywhere.
  router.post("/account/sign-in", (_req, res) => {
    res.redirect(303, "../account");
  });

  /** The page's own requests only: cookie session, same Origin, CSRF token; then `res.locals` as requireSession. */
  const pageRequest: RequestHandler = async (req, res, next) => {
    const session = await cookieSession(opts.auth, req);
    if (!session) throw new AccountActionError(401, "unauthorized", "Sign in on the account page first.");
    // Forms send the token as a field; the import (a file body) in a header.
    const field = (req.body as { csrf?: unknown } | undefined)?.csrf;
    await checkPageRequest(opts.auth, req, opts.publicUrl, session, req.get("x-csrf-token") ?? field);
    res.locals.user = session.user;
    res.locals.pageSession = session;
    next();
  };
  const pageSession = (res: Response) => res.locals.pageSession as PageSession;
  const pageForm = express.urlencoded({ extended: false, limit: "8kb" });

  router.post("/account/export", pageForm, pageRequest, async (req, res) => {
    const { format } = parseInput(ExportQuery, { format: (req.body as { format?: unknown }).format });
    await sendExport(res, opts, currentUser(res), format);
  });

  // The file is read only for a signed-in page (its CSRF token comes in a header): 20 MiB is not for anyone.
  router.post("/account/import", pageRequest, opts.limitWrites, importBody, async (req, res) => {
    res.json(await runImport(req, opts, currentUser(res)));
  });

  router.post("/account/apps/disconnect", pageForm, pageRequest, async (req, res) => {
    const session = pageSession(res);
    const { client_id } = parseInput(DisconnectForm, req.body);
    const gone = await disconnectApp(opts.db, session.user.id, client_id);
    if (!gone) res.status(404);
    const message = gone
      ? { text: "Disconnected. That app can no longer reach your tasks.", kind: "ok" as const }
      : { text: "That app was not connected.", kind: "error" as const };
    sendPage(res, await signedInView(opts, session, message));
  });

  router.post("/account/delete", pageForm, pageRequest, async (req, res) => {
    const session = pageSession(res);
    const { password } = parseInput(DeleteBody, req.body);
    try {
      await confirmPassword(opts.auth, opts.throttle, { ...session.user, ip: clientIp(req) }, password);
    } catch (err) {
      if (!(err instanceof AccountActionError) || err.code !== "wrong_password") throw err;
      res.status(403);
      return sendPage(res, await signedInView(opts, session, { text: err.message, kind: "error" }));
    }
    await deleteAccount(opts.db, session.user.id);
    await sendPage(res, { kind: "deleted" });
  });

  router.use(["/api/export", "/api/import", "/api/account", "/account"], accountErrors);
  return router;
}

async function signedInView(
  opts: AccountRouterOptions,
  session: PageSession,
  message?: { text: string; kind: "ok" | "error" },
): Promise<Extract<AccountPageView, { kind: "signed-in" }>> {
  return {
    kind: "signed-in",
    email: session.user.email,
    timezone: session.user.timezone,
    csrf: await csrfToken(opts.auth, session.session.id),
    apps: await listConnections(opts.db, session.user.id),
    message,
  };
}

function sendPage(res: Response, view: AccountPageView) {
  const nonce = randomBytes(16).toString("base64");
  res.set(accountPageHeaders(nonce)).type("html").send(renderAccountPage(nonce, view));
}

async function sendExport(
  res: Response,
  opts: AccountRouterOptions,
  user: CurrentUser,
  format: "json" | "csv",
) {
  const data = await exportAccount(opts.db, opts.tasks, user);
  const day = data.exported_at.slice(0, 10);
  res.set({
    "Cache-Control": "no-store",
    "Content-Disposition": `attachment; filename="margin-${format === "csv" ? "tasks" : "export"}-${day}.${format}"`,
    "X-Content-Type-Options": "nosniff",
  });
  if (format === "csv") res.type("text/csv; charset=utf-8").send(toTodoistCsv(data.tasks, user.timezone));
  else res.type("application/json").send(JSON.stringify(data, null, 2));
}

async function runImport(req: Request, opts: AccountRouterOptions, user: CurrentUser) {
  if (req.is("text/csv") || req.is("text/plain")) {
    if (typeof req.body !== "string" || !req.body.trim()) {
      throw new HttpError(400, "invalid_import", "The CSV file is empty.");
    }
    return importEntries(opts.tasks, user, fromTodoistCsv(req.body, MAX_IMPORT_TASKS), "todoist");
  }
  if (!req.is("application/json")) {
    throw new HttpError(
      415,
      "unsupported_media_type",
      "Send a Margin export as application/json or a Todoist export as text/csv.",
    );
  }
  const file = parseInput(MarginImportFile, req.body);
  return importEntries(opts.tasks, user, fromMarginExport(file), "margin");
}

const clientIp = (req: Request) => req.ip ?? req.socket.remoteAddress ?? "unknown";

/** Account errors in the API's shape; everything else goes on to the app's error handler. */
function accountErrors(err: unknown, _req: Request, res: Response, next: NextFunction) {
  if (!(err instanceof AccountActionError)) return next(err);
  if (err.retryAfterSeconds !== undefined) res.set("Retry-After", String(err.retryAfterSeconds));
  res.status(err.status).json({ error: { code: err.code, message: err.message } });
}
