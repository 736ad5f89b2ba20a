import { randomFillSync } from "node:crypto";
import { and, asc, desc, eq, gt, inArray, lt, notInArray, sql } from "drizzle-orm";
import { chatItems, chatThreads } from "../db/chat-schema.ts";
import { type Db, rowsOf } from "../db/connect.ts";
import { ChatKitError } from "./errors.ts";
import {
  HIDDEN_ITEM_TYPES,
  type Page,
  type ThreadItem,
  type ThreadMetadata,
  type ThreadStatus,
} from "./types.ts";

export const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 100;

const ID_PREFIXES = {
  thread: "thr",
  message: "msg",
  tool_call: "tc",
  task: "tsk",
  workflow: "wf",
  hidden_context: "ctx",
  sdk_hidden_context: "shcx",
} as const;
export type IdKind = keyof typeof ID_PREFIXES;

const ID_BYTES = 12;
// Random bits are taken from a pool refilled 256 ids at a time, as randomUUID does: each fill is a call into the
// kernel's random source, which cost more than the rest of an id (tens of µs in CPU profiles here).
const idPool = Buffer.alloc(ID_BYTES * 256);
let idPoolUsed = idPool.length;

/** `thr_…`, `msg_…` as the reference server does, with 96 random bits: ids are unguessable and global. */
export function generateId(kind: IdKind): string {
  if (idPoolUsed === idPool.length) {
    randomFillSync(idPool);
    idPoolUsed = 0;
  }
  const start = idPoolUsed;
  idPoolUsed += ID_BYTES;
  return `${ID_PREFIXES[kind]}_${idPool.toString("hex", start, idPoolUsed)}`;
}

export const clampLimit = (limit: number | null | undefined) =>
  !limit || limit < 1 ? DEFAULT_PAGE_SIZE : Math.min(limit, MAX_PAGE_SIZE);

type ThreadRow = typeof chatThreads.$inferSelect;

/** `durable`: wait for the commit to reach disk (what the user typed). Default: the transcript's own writes. */
export type WriteOptions = { durable?: boolean };

/**
 * A CTE naming the statement's commit mode. The transcript (answers, workflows, notes) commits without waiting
 * for the WAL flush: each such wait is a disk sync (~3 ms here), up to eight per turn. A crash can lose the last
 * fraction of a second of transcript, never a task (the MCP server's writes are untouched) and never what the
 * user typed, which commits durably, and flushes what came before it.
 */
const commitMode = (opts: WriteOptions) =>
  opts.durable
    ? sql`commit_mode as (select 1)`
    : sql`commit_mode as (select set_config('synchronous_commit', 'off', true))`;

function toThreadMetadata(row: ThreadRow): ThreadMetadata {
  return {
    id: row.id,
    title: row.title,
    created_at: row.createdAt.toISOString(),
    status: row.status as ThreadStatus,
    allowed_image_domains: row.allowedImageDomains,
    metadata: row.metadata,
  };
}

const threadColumns = (userId: string, thread: ThreadMetadata) => ({
  id: thread.id,
  userId,
  title: thread.title ?? null,
  status: thread.status,
  allowedImageDomains: thread.allowed_image_domains ?? null,
  metadata: thread.metadata,
  createdAt: new Date(thread.created_at),
});

/**
 * Threads and items of ONE user (reference/chatkit.md §2.8). Every statement filters by that user, so another
 * user's thread or item id behaves exactly like an id that does not exist.
 */
export function createChatStore(db: Db, userId: string) {
  const ownThread = (threadId: string) => and(eq(chatThreads.id, threadId), eq(chatThreads.userId, userId));
  const ownItem = (threadId: string, itemId: string) =>
    and(eq(chatItems.id, itemId), eq(chatItems.threadId, threadId), eq(chatItems.userId, userId));

  async function itemSeq(threadId: string, itemId: string): Promise<number> {
    const [row] = await db.select({ seq: chatItems.seq }).from(chatItems).where(ownItem(threadId, itemId));
    if (!row) throw ChatKitError.notFound("item");
    return row.seq;
  }

  return {
    userId,

    async loadThread(threadId: string): Promise<ThreadMetadata> {
      const [row] = await db.select().from(chatThreads).where(ownThread(threadId));
      if (!row) throw ChatKitError.notFound("thread");
      return toThreadMetadata(row);
    },

    /** Insert or update (title, status, metadata); never moves a thread to another user. */
    async saveThread(thread: ThreadMetadata, opts: WriteOptions = {}): Promise<void> {
      const v = threadColumns(userId, thread);
      const saved = await db.execute(sql`
        with ${commitMode(opts)}
        insert into ${chatThreads} (id, user_id, title, status, allowed_image_domains, metadata, created_at)
        select ${v.id}, ${userId}, ${v.title}, ${JSON.stringify(v.status)}::jsonb,
               ${v.allowedImageDomains === null ? null : JSON.stringify(v.allowedImageDomains)}::jsonb,
               ${JSON.stringify(v.metadata)}::jsonb, ${thread.created_at}::timestamptz
        from commit_mode
        on conflict (id) do update set title = excluded.title, status = excluded.status,
          allowed_image_domains = excluded.allowed_image_domains, metadata = excluded.metadata, updated_at = now()
          where ${chatThreads.userId} = ${userId}
        returning id`);
      if (rowsOf(saved).length === 0) throw ChatKitError.notFound("thread");
    },

    /** A new thread with its first message, in one durable statement: what the user typed is kept. */
    async createThread(thread: ThreadMetadata, first: ThreadItem): Promise<void> {
      const v = threadColumns(userId, thread);
      await db.execute(sql`
        with thread as (
          insert into ${chatThreads} (id, user_id, title, status, metadata, created_at)
          values (${v.id}, ${userId}, ${v.title}, ${JSON.stringify(v.status)}::jsonb,
                  ${JSON.stringify(v.metadata)}::jsonb, ${thread.created_at}::timestamptz)
          returning id
        )
        insert into ${chatItems} (id, thread_id, user_id, type, data, created_at)
        select ${first.id}, thread.id, ${userId}, ${first.type}, ${JSON.stringify(first)}::jsonb,
               ${first.created_at}::timestamptz
        from thread`);
    },

    async loadThreads(limit: number, after: string | null | undefined, order: "asc" | "desc") {
      let cursor: number | undefined;
      if (after) {
        const [row] = await db.select({ seq: chatThreads.seq }).from(chatThreads).where(ownThread(after));
        if (!row) throw ChatKitError.notFound("thread");
        cursor = row.seq;
      }
      const rows = await db
        .select()
        .from(chatThreads)
        .where(
          and(
            eq(chatThreads.userId, userId),
            cursor === undefined
              ? undefined
              : order === "asc"
                ? gt(chatThreads.seq, cursor)
                : lt(chatThreads.seq, cursor),
          ),
        )
        .orderBy(order === "asc" ? asc(chatThreads.seq) : desc(chatThreads.seq))
        .limit(limit + 1);
      return toPage(rows.map(toThreadMetadata), limit);
    },

    async deleteThread(threadId: string): Promise<void> {
      const deleted = await db
        .delete(chatThreads)
        .where(ownThread(threadId))
        .returning({ id: chatThreads.id });
      if (deleted.length === 0) throw ChatKitError.notFound("thread");
    },

    /**
     * A page of a thread's items by insertion order; `after` is the last item id of the previous page.
     * `visibleOnly` leaves hidden context out in SQL, so pages the client sees are full.
     */
    async loadThreadItems(
      threadId: string,
      opts: { after?: string | null; limit: number; order: "asc" | "desc"; visibleOnly?: boolean },
    ): Promise<Page<ThreadItem>> {
      const cursor = opts.after ? await itemSeq(threadId, opts.after) : undefined;
      const rows = await db
        .select({ data: chatItems.data })
        .from(chatItems)
        .where(
          and(
            eq(chatItems.threadId, threadId),
            eq(chatItems.userId, userId),
            opts.visibleOnly ? notInArray(chatItems.type, [...HIDDEN_ITEM_TYPES]) : undefined,
            cursor === undefined
              ? undefined
              : opts.order === "asc"
                ? gt(chatItems.seq, cursor)
                : lt(chatItems.seq, cursor),
          ),
        )
        .orderBy(opts.order === "asc" ? asc(chatItems.seq) : desc(chatItems.seq))
        .limit(opts.limit + 1);
      return toPage(
        rows.map((r) => r.data as ThreadItem),
        opts.limit,
      );
    },

    /** Appends an item and marks the thread active, in one statement that also proves the thread is ours. */
    async addThreadItem(threadId: string, item: ThreadItem): Promise<void> {
      const inserted = await db.execute(sql`
        with ${commitMode({})}, thread as (
          update ${chatThreads} set updated_at = now()
          where ${chatThreads.id} = ${threadId} and ${chatThreads.userId} = ${userId}
          returning id
        )
        insert into ${chatItems} (id, thread_id, user_id, type, data, created_at)
        select ${item.id}, thread.id, ${userId}, ${item.type}, ${JSON.stringify(item)}::jsonb, ${item.created_at}::timestamptz
        from thread, commit_mode
        on conflict (id) do nothing
        returning id`);
      if (rowsOf(inserted).length === 0) {
        // Either the thread is not ours, or the item exists already (a replay): only the first is an error.
        await this.loadThread(threadId);
      }
    },

    /**
     * A message for a thread of ours, stored durably in one statement that also marks the thread active and
     * reads it (or not found), with the `before` newest items that came before the message, oldest first: one
     * round trip instead of a read, a write and another read.
     */
    async addUserMessage(
      threadId: string,
      item: ThreadItem,
      before: number,
    ): Promise<{ thread: ThreadMetadata; earlier: ThreadItem[] }> {
      const result = await db.execute(sql`
        with earlier as (
          select seq, data from ${chatItems}
          where ${chatItems.threadId} = ${threadId} and ${chatItems.userId} = ${userId}
          order by seq desc limit ${before}
        ), thread as (
          update ${chatThreads} set updated_at = now()
          where ${chatThreads.id} = ${threadId} and ${chatThreads.userId} = ${userId}
          returning id, title, status, allowed_image_domains, metadata, created_at
        ), inserted as (
          insert into ${chatItems} (id, thread_id, user_id, type, data, created_at)
          select ${item.id}, thread.id, ${userId}, ${item.type}, ${JSON.stringify(item)}::jsonb,
                 ${item.created_at}::timestamptz
          from thread
        )
        select thread.*, (select coalesce(jsonb_agg(data order by seq), '[]') from earlier) as earlier
        from thread`);
      const [row] = rowsOf<{
        id: string;
        title: string | null;
        status: ThreadStatus;
        allowed_image_domains: string[] | null;
        metadata: Record<string, unknown>;
        // A string from postgres.js (drizzle leaves timestamps unparsed), a Date from PGlite.
        created_at: string | Date;
        earlier: ThreadItem[];
      }>(result);
      if (!row) throw ChatKitError.notFound("thread");
      const thread = {
        id: row.id,
        title: row.title,
        created_at: new Date(row.created_at).toISOString(),
        status: row.status,
        allowed_image_domains: row.allowed_image_domains,
        metadata: row.metadata,
      };
      return { thread, earlier: row.earlier };
    },

    /**
     * What a stream added since it last wrote, in one statement: the items in order, and the thread's own fields
     * when `thread` is given. One round trip per turn instead of one per item.
     */
    async saveTurn(threadId: string, items: ThreadItem[], thread?: ThreadMetadata): Promise<void> {
      const v = thread && threadColumns(userId, thread);
      const saved = await db.execute(sql`
        with ${commitMode({})}, thread as (
          update ${chatThreads} set updated_at = now()
          ${
            v
              ? sql`, title = ${v.title}, status = ${JSON.stringify(v.status)}::jsonb,
                allowed_image_domains = ${v.allowedImageDomains === null ? null : JSON.stringify(v.allowedImageDomains)}::jsonb,
                metadata = ${JSON.stringify(v.metadata)}::jsonb`
              : sql``
          }
          where ${chatThreads.id} = ${threadId} and ${chatThreads.userId} = ${userId}
          returning id
        ), inserted as (
          insert into ${chatItems} (id, thread_id, user_id, type, data, created_at)
          select i.item->>'id', thread.id, ${userId}, i.item->>'type', i.item, (i.item->>'created_at')::timestamptz
          from thread, commit_mode, jsonb_array_elements(${JSON.stringify(items)}::jsonb) with ordinality as i(item, n)
          order by i.n
          on conflict (id) do nothing
        )
        select id from thread`);
      if (rowsOf(saved).length === 0) throw ChatKitError.notFound("thread");
    },

    /** Insert or replace an item by id (widgets that changed, answered inputs). */
    async saveItem(threadId: string, item: ThreadItem, opts: WriteOptions = {}): Promise<void> {
      const saved = await db.execute(sql`
        with ${commitMode(opts)}, thread as (
          update ${chatThreads} set updated_at = now()
          where ${chatThreads.id} = ${threadId} and ${chatThreads.userId} = ${userId}
          returning id
        )
        insert into ${chatItems} (id, thread_id, user_id, type, data, created_at)
        select ${item.id}, thread.id, ${userId}, ${item.type}, ${JSON.stringify(item)}::jsonb, ${item.created_at}::timestamptz
        from thread, commit_mode
        on conflict (id) do update set type = excluded.type, data = excluded.data
          where ${chatItems.threadId} = excluded.thread_id and ${chatItems.userId} = excluded.user_id
        returning id`);
      if (rowsOf(saved).length === 0) throw ChatKitError.notFound("item");
    },

    async loadItem(threadId: string, itemId: string): Promise<ThreadItem> {
      const [row] = await db
        .select({ data: chatItems.data })
        .from(chatItems)
        .where(ownItem(threadId, itemId));
      if (!row) throw ChatKitError.notFound("item");
      return row.data as ThreadItem;
    },

    async deleteThreadItem(threadId: string, itemId: string): Promise<void> {
      await db.delete(chatItems).where(ownItem(threadId, itemId));
    },

    /** Deletes every item newer than `itemId` (retry); returns how many went. */
    async deleteItemsAfter(threadId: string, itemId: string): Promise<number> {
      const seq = await itemSeq(threadId, itemId);
      const deleted = await db
        .delete(chatItems)
        .where(and(eq(chatItems.threadId, threadId), eq(chatItems.userId, userId), gt(chatItems.seq, seq)))
        .returning({ id: chatItems.id });
      return deleted.length;
    },

    /** Records thumbs up/down on items of the thread; all of them must exist. */
    async setFeedback(threadId: string, itemIds: string[], kind: "positive" | "negative"): Promise<void> {
      await this.loadThread(threadId);
      if (itemIds.length === 0) return;
      const updated = await db
        .update(chatItems)
        .set({ feedback: kind })
        .where(
          and(eq(chatItems.threadId, threadId), eq(chatItems.userId, userId), inArray(chatItems.id, itemIds)),
        )
        .returning({ id: chatItems.id });
      if (updated.length !== new Set(itemIds).size) throw ChatKitError.notFound("item");
    },

    async feedbackOf(threadId: string, itemId: string): Promise<string | null> {
      const [row] = await db
        .select({ feedback: chatItems.feedback })
        .from(chatItems)
        .where(ownItem(threadId, itemId));
      return row?.feedback ?? null;
    },
  };
}

export type ChatStore = ReturnType<typeof createChatStore>;

function toPage<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const hasMore = rows.length > limit;
  const data = hasMore ? rows.slice(0, limit) : rows;
  return hasMore ? { data, has_more: true, after: data.at(-1)!.id } : { data, has_more: false };
}

/** Deletes threads (and their items) idle for longer than `days`; returns how many. */
export async function deleteIdleThreads(db: Db, days: number): Promise<number> {
  const deleted = await db
    .delete(chatThreads)
    .where(lt(chatThreads.updatedAt, sql`now() - make_interval(days => ${days})`))
    .returning({ id: chatThreads.id });
  return deleted.length;
}
