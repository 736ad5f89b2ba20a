import type { z } from "zod/mini";
import { ApiError, GatewayUnreachableError } from "./errors.ts";
import {
  errorBodySchema,
  type NewTask,
  oneTaskSchema,
  type Task,
  type TaskPatch,
  type TitlePreview,
  taskPageSchema,
  titlePreviewSchema,
} from "./schemas.ts";

/** Where and as whom to call the gateway. */
export type Connection = { gatewayUrl: string; token: string };

export type ListQuery = {
  status?: "all" | "pending" | "completed" | "deleted";
  due?: "overdue" | "today" | "upcoming" | "none" | "any";
  query?: string;
  limit?: number;
  cursor?: string;
};

const TIMEOUT_MS = 15_000;

/** fetch that turns network failures into GatewayUnreachableError and error bodies into ApiError. */
export async function gatewayFetch(url: string, init: RequestInit = {}): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: init.signal ?? AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    if (init.signal?.aborted) throw err;
    throw new GatewayUnreachableError(`Can't reach ${new URL(url).origin}: ${(err as Error).message}`);
  }
  if (res.ok) return res;
  throw await toApiError(res);
}

async function toApiError(res: Response): Promise<ApiError> {
  const body = await res.json().catch(() => null);
  const parsed = errorBodySchema.safeParse(body);
  if (parsed.success) return new ApiError(res.status, parsed.data.error.code, parsed.data.error.message);
  // better-auth answers { code, message } or OAuth { error, error_description }.
  const b = (body ?? {}) as Record<string, unknown>;
  const message =
    (typeof b.message === "string" && b.message) ||
    (typeof b.error_description === "string" && b.error_description) ||
    `The server answered HTTP ${res.status}.`;
  const code =
    (typeof b.error === "string" && b.error) || (typeof b.code === "string" && b.code) || "http_error";
  if (res.status >= 502 && res.status <= 504 && !parsed.success)
    return new ApiError(res.status, code, "The Margin server is not answering right now. Try again shortly.");
  return new ApiError(res.status, code, message);
}

export function joinUrl(gatewayUrl: string, path: string): string {
  return gatewayUrl.replace(/\/+$/, "") + path;
}

async function call<T>(
  conn: Connection,
  path: string,
  schema: z.ZodMiniType<T>,
  init: RequestInit & { idempotencyKey?: string } = {},
): Promise<T> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${conn.token}`,
    accept: "application/json",
  };
  if (init.body) headers["content-type"] = "application/json";
  if (init.idempotencyKey) headers["idempotency-key"] = init.idempotencyKey;
  const res = await gatewayFetch(joinUrl(conn.gatewayUrl, path), { ...init, headers });
  return schema.parse(await res.json());
}

/** The gateway's REST API for tasks, as the signed-in user. */
export function tasksApi(conn: Connection) {
  const post = (path: string, body?: unknown, idempotencyKey?: string) =>
    call(conn, path, oneTaskSchema, {
      method: "POST",
      body: body === undefined ? undefined : JSON.stringify(body),
      idempotencyKey,
    }).then((r) => r.task);
  return {
    async list(query: ListQuery = {}): Promise<{ tasks: Task[]; next_cursor: string | null }> {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== "") params.set(k, String(v));
      return call(conn, `/api/tasks?${params}`, taskPageSchema);
    },
    /** Every page of a listing, up to `max` tasks. */
    async listAll(query: Omit<ListQuery, "cursor">, max = 5000): Promise<Task[]> {
      const out: Task[] = [];
      let cursor: string | undefined;
      do {
        const page = await this.list({ limit: 200, ...query, cursor });
        out.push(...page.tasks);
        cursor = page.next_cursor ?? undefined;
      } while (cursor && out.length < max);
      return out;
    },
    create: (task: NewTask, idempotencyKey: string) => post("/api/tasks", task, idempotencyKey),
    update: (id: string, patch: TaskPatch) =>
      call(conn, `/api/tasks/${encodeURIComponent(id)}`, oneTaskSchema, {
        method: "PATCH",
        body: JSON.stringify(patch),
      }).then((r) => r.task),
    complete: (id: string) => post(`/api/tasks/${encodeURIComponent(id)}/complete`),
    reopen: (id: string) => post(`/api/tasks/${encodeURIComponent(id)}/reopen`),
    restore: (id: string) => post(`/api/tasks/${encodeURIComponent(id)}/restore`),
    remove: (id: string) =>
      call(conn, `/api/tasks/${encodeURIComponent(id)}`, oneTaskSchema, { method: "DELETE" }).then(
        (r) => r.task,
      ),
    /** What `extract_due` would take from a typed line (quick-add's chip). */
    previewTitle: (title: string, signal?: AbortSignal): Promise<TitlePreview> =>
      call(conn, `/api/dates/preview?title=${encodeURIComponent(title)}`, titlePreviewSchema, { signal }),
  };
}

export type TasksApi = ReturnType<typeof tasksApi>;
