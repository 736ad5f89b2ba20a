import { asc, eq } from "drizzle-orm";
import type { CurrentUser } from "../auth/current-user.ts";
import { chatItems, chatThreads } from "../db/chat-schema.ts";
import type { Db } from "../db/connect.ts";
import { user } from "../db/schema.ts";
import type { TaskServiceClient } from "../task-service/client.ts";
import type { TaskView } from "../tasks/view.ts";
import { AccountActionError } from "./errors.ts";

export const EXPORT_FORMAT = "margin-export";
export const EXPORT_VERSION = 1;

export type ChatThreadExport = {
  id: string;
  title: string | null;
  status: unknown;
  created_at: string;
  updated_at: string;
  items: { id: string; type: string; created_at: string; data: Record<string, unknown> }[];
};

export type MarginExport = {
  format: typeof EXPORT_FORMAT;
  version: typeof EXPORT_VERSION;
  exported_at: string;
  user: { email: string; name: string; timezone: string; created_at: string };
  /** Every task: pending, completed and in the trash (`status: "deleted"`), as list_tasks shows them. */
  tasks: TaskView[];
  chat: { threads: ChatThreadExport[] };
};

/** list_tasks' largest page. */
const PAGE = 200;

/** What the export needs of the task service: one tool call as a user. */
export type TaskCaller = Pick<TaskServiceClient, "call">;

/**
 * All of a user's data, as they can take it elsewhere. Tasks come through the MCP server like every other
 * read of task data (list_tasks, paged: "all" is pending and completed, "deleted" the trash), so the export
 * shows them exactly as every tool does. The chat transcript is the gateway's own (chat schema).
 */
export async function exportAccount(db: Db, tasks: TaskCaller, who: CurrentUser): Promise<MarginExport> {
  const [account] = await db
    .select({ email: user.email, name: user.name, timezone: user.timezone, createdAt: user.createdAt })
    .from(user)
    .where(eq(user.id, who.id));
  if (!account) throw new AccountActionError(404, "no_such_account", "This account no longer exists.");
  const all = await listEveryTask(tasks, who);
  return {
    format: EXPORT_FORMAT,
    version: EXPORT_VERSION,
    exported_at: new Date().toISOString(),
    user: {
      email: account.email,
      name: account.name,
      timezone: account.timezone ?? "UTC",
      created_at: account.createdAt.toISOString(),
    },
    tasks: all,
    chat: { threads: await chatThreadsOf(db, who.id) },
  };
}

/** Every task of the user, through list_tasks: "all" is pending and completed, "deleted" the trash. */
export async function listEveryTask(tasks: TaskCaller, who: CurrentUser): Promise<TaskView[]> {
  return [...(await listAll(tasks, who, "all")), ...(await listAll(tasks, who, "deleted"))];
}

async function listAll(tasks: TaskCaller, who: CurrentUser, status: "all" | "deleted"): Promise<TaskView[]> {
  const found: TaskView[] = [];
  let cursor: string | null = null;
  do {
    const result = await tasks.call(who, "list_tasks", {
      status,
      limit: PAGE,
      ...(cursor ? { cursor } : {}),
    });
    const page = result.structuredContent as { tasks?: TaskView[]; next_cursor?: string | null } | undefined;
    if (result.isError || !page?.tasks) {
      throw new AccountActionError(502, "task_service_error", "The task service could not list the tasks.");
    }
    found.push(...page.tasks);
    cursor = page.next_cursor ?? null;
  } while (cursor);
  return found;
}

async function chatThreadsOf(db: Db, userId: string): Promise<ChatThreadExport[]> {
  const threads = await db
    .select()
    .from(chatThreads)
    .where(eq(chatThreads.userId, userId))
    .orderBy(asc(chatThreads.seq));
  const items = await db
    .select()
    .from(chatItems)
    .where(eq(chatItems.userId, userId))
    .orderBy(asc(chatItems.seq));
  const byThread = new Map<string, ChatThreadExport["items"]>();
  for (const item of items) {
    const list = byThread.get(item.threadId) ?? [];
    list.push({ id: item.id, type: item.type, created_at: item.createdAt.toISOString(), data: item.data });
    byThread.set(item.threadId, list);
  }
  // Thread metadata is server-private (pending confirmations), not the user's words: it stays out.
  return threads.map((t) => ({
    id: t.id,
    title: t.title,
    status: t.status,
    created_at: t.createdAt.toISOString(),
    updated_at: t.updatedAt.toISOString(),
    items: byThread.get(t.id) ?? [],
  }));
}
