import { type RequestHandler, Router } from "express";
import { z } from "zod";
import { currentUser } from "../auth/current-user.ts";
import { PRIORITIES } from "../db/task-schema.ts";
import { text } from "../mcp-server/schemas.ts";
import type { TaskServiceClient, ToolResult } from "../task-service/client.ts";
import { type Due, describeDue, extractDueFromTitle, parseNewDue } from "../tasks/due.ts";
import { TaskError } from "../tasks/errors.ts";
import { HttpError, parseInput } from "./errors.ts";

// REST bodies are checked here for shape; the MCP tools check limits and meaning and say what to fix.
const source = z
  .object({ url: z.string().optional(), title: z.string().optional(), excerpt: z.string().optional() })
  .strict();
const fields = {
  title: z.string(),
  notes: z.string().optional(),
  due: z.string().optional(),
  priority: z.enum(PRIORITIES).optional(),
  labels: z.array(z.string()).optional(),
  source: source.optional(),
};
const NewTaskBody = z.object({ ...fields, extract_due: z.boolean().optional() }).strict();
const TaskPatchBody = z
  .object({
    ...fields,
    title: fields.title.optional(),
    due: z.string().nullable().optional(),
    source: source.nullable().optional(),
  })
  .strict();
const ListQuery = z
  .object({
    status: z.enum(["all", "pending", "completed", "deleted"]).optional(),
    due: z.enum(["overdue", "today", "upcoming", "none", "any"]).optional(),
    query: z.string().optional(),
    limit: z.coerce.number().int().optional(),
    cursor: z.string().optional(),
  })
  .strict();
const IdempotencyKey = z
  .string()
  .min(1)
  .max(200, "Idempotency-Key: at most 200 characters")
  .regex(/^[\x21-\x7e]+$/, "Idempotency-Key: printable ASCII without spaces")
  .optional();
// The same text checks as add_task's, so a preview refuses what creating the task would refuse.
const PreviewQuery = z
  .object({
    due: text("due", 200).trim().min(1, "due: give a phrase such as 'tomorrow 5pm'").optional(),
    title: text("title", 500).trim().min(1, "title: give the text typed in quick-add").optional(),
  })
  .strict()
  .refine((q) => (q.due === undefined) !== (q.title === undefined), "Give either due or title.");

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TOOL_ERROR_STATUS: Record<string, number> = {
  not_found: 404,
  invalid_input: 400,
  idempotency_conflict: 422,
  // The account was deleted after this request's session was checked (another instance, a moment ago).
  account_deleted: 401,
  // The task database dropped the call: 503 with Retry-After (http/errors.ts), not a failure to give up on.
  unavailable: 503,
};

/** The side panel's REST API: each route is one MCP tool call made as the signed-in user. */
export function createTasksRouter(tasks: TaskServiceClient, opts: { limitWrites: RequestHandler }): Router {
  const router = Router();
  // Ids that cannot be task ids are simply not found, as the MCP server would say for unknown ones.
  router.param("id", (_req, _res, next, id: string) => {
    next(UUID.test(id) ? undefined : new HttpError(404, "not_found", `No task with id ${id.slice(0, 64)}.`));
  });
  const call = async (res: Parameters<RequestHandler>[1], tool: string, args: Record<string, unknown>) =>
    structured(await tasks.call(currentUser(res), tool, args));

  router.get("/api/tasks", async (req, res) => {
    res.json(await call(res, "list_tasks", parseInput(ListQuery, req.query)));
  });

  router.post("/api/tasks", opts.limitWrites, async (req, res) => {
    const body = parseInput(NewTaskBody, req.body);
    const key = parseInput(IdempotencyKey, req.get("idempotency-key"));
    const result = await call(res, "add_task", { ...body, ...(key ? { idempotency_key: key } : {}) });
    if (!result.created) res.set("Idempotent-Replayed", "true");
    res.status(result.created ? 201 : 200).json({ task: result.task, extracted: result.extracted });
  });

  router.patch("/api/tasks/:id", opts.limitWrites, async (req, res) => {
    const patch = parseInput(TaskPatchBody, req.body);
    res.json(oneTask(await call(res, "update_task", { task_id: req.params.id, ...patch })));
  });

  for (const [action, tool] of [
    ["complete", "complete_task"],
    ["reopen", "reopen_task"],
    ["restore", "restore_task"],
  ] as const) {
    router.post(`/api/tasks/:id/${action}`, opts.limitWrites, async (req, res) => {
      res.json(oneTask(await call(res, tool, { task_id: req.params.id })));
    });
  }

  router.delete("/api/tasks/:id", opts.limitWrites, async (req, res) => {
    res.json(oneTask(await call(res, "delete_task", { task_id: req.params.id })));
  });

  // What quick-add will store, in the user's zone, without creating anything: a due phrase (`due`), or what
  // `extract_due` takes from a typed title (`title`). It refuses exactly what creating the task would refuse.
  router.get("/api/dates/preview", (req, res) => {
    const query = parseInput(PreviewQuery, req.query);
    const user = currentUser(res);
    const opts = { now: new Date(), tz: user.timezone };
    try {
      if (query.due !== undefined) return void res.json({ due: previewOf(parseNewDue(query.due, opts)) });
      const found = extractDueFromTitle(query.title!, opts);
      res.json({
        title: found?.title ?? query.title,
        extracted: found && { phrase: found.due.phrase, title_before: query.title },
        due: found && previewOf(found.due),
      });
    } catch (err) {
      if (err instanceof TaskError) throw new HttpError(422, "unrecognised_date", err.message);
      throw err;
    }
  });

  return router;
}

function structured(result: ToolResult): Record<string, unknown> {
  if (result.isError) {
    const error = result.structuredContent?.error as { code?: string; message?: string } | undefined;
    const text = result.content.map((c) => (c.type === "text" ? c.text : "")).join(" ");
    // Input validation by the MCP SDK has no structured error: it is the client's mistake, so 400.
    const status = error?.code ? (TOOL_ERROR_STATUS[error.code] ?? 502) : 400;
    const message =
      error?.message ??
      text.replace(/^MCP error -?\d+: (Input validation error: )?(Invalid arguments for tool \w+: )?/, "");
    throw new HttpError(status, error?.code ?? "invalid_input", message);
  }
  return result.structuredContent ?? {};
}

function previewOf(due: Due) {
  return {
    at: due.at.toISOString(),
    date_only: due.dateOnly,
    tz: due.tz,
    phrase: due.phrase,
    rrule: due.recurrence,
    text: describeDue(due),
  };
}

function oneTask(result: Record<string, unknown>) {
  return { task: result.task, changed: result.changed };
}
