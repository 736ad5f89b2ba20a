import { createParser } from "eventsource-parser";
import { type Connection, gatewayFetch, joinUrl } from "../api/client.ts";
import { ApiError } from "../api/errors.ts";
import { clockLocale } from "../panel/format.ts";
import {
  parseItem,
  parseStreamEvent,
  parseThread,
  type StreamEvent,
  type ThreadItem,
  type ThreadMeta,
} from "./protocol.ts";

/** Chats per page of the history list. */
export const THREAD_PAGE = 30;

/** A page of the history: `after` is the cursor for the next page, null on the last. */
export type ThreadPage = { threads: ThreadMeta[]; after: string | null };

/** Every request says how the panel shows times (`metadata.locale`): any of them may draw a task list. */
function withLocale(body: object) {
  const metadata = (body as { metadata?: object }).metadata;
  return { ...body, metadata: { ...metadata, locale: clockLocale() } };
}

/** POST /chatkit as the signed-in user: JSON requests and SSE turns. */
export function chatkitClient(conn: Connection) {
  const post = (body: object, signal?: AbortSignal) =>
    gatewayFetch(joinUrl(conn.gatewayUrl, "/chatkit"), {
      method: "POST",
      headers: { authorization: `Bearer ${conn.token}`, "content-type": "application/json" },
      body: JSON.stringify(withLocale(body)),
      // Turns can run long; the caller's signal (Stop, unmount) ends them, not a timeout.
      signal: signal ?? AbortSignal.timeout(30_000),
    });
  const json = async (body: object) => (await post(body)).json() as Promise<unknown>;

  return {
    /** Runs one streaming request, handing each event to `onEvent` as it arrives. */
    async stream(body: object, onEvent: (event: StreamEvent) => void, signal: AbortSignal): Promise<void> {
      const res = await post(body, signal);
      if (!res.body) throw new ApiError(502, "no_body", "The server sent an empty answer.");
      const parser = createParser({
        onEvent: (message) => {
          const event = parseStreamEvent(message.data);
          if (event) onEvent(event);
        },
      });
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        parser.feed(value);
      }
    },
    /** One page of the user's chats, newest first; `after` is the last thread of the page before. */
    async listThreads(after?: string): Promise<ThreadPage> {
      const page = (await json({
        type: "threads.list",
        params: { limit: THREAD_PAGE, order: "desc", ...(after ? { after } : {}) },
      })) as { data?: unknown[]; has_more?: unknown; after?: unknown };
      const threads = (page.data ?? []).flatMap((t) => {
        const thread = parseThread(t);
        return thread ? [{ id: thread.id, title: thread.title, created_at: thread.created_at }] : [];
      });
      const next = typeof page.after === "string" ? page.after : threads.at(-1)?.id;
      return { threads, after: page.has_more === true && next ? next : null };
    },
    async getThread(threadId: string) {
      const thread = parseThread(await json({ type: "threads.get_by_id", params: { thread_id: threadId } }));
      if (!thread) throw new ApiError(502, "bad_thread", "The server sent a thread the panel cannot read.");
      return thread;
    },
    async renameThread(threadId: string, title: string): Promise<ThreadMeta> {
      const thread = parseThread(
        await json({ type: "threads.update", params: { thread_id: threadId, title } }),
      );
      if (!thread) throw new ApiError(502, "bad_thread", "The server sent a thread the panel cannot read.");
      return { id: thread.id, title: thread.title, created_at: thread.created_at };
    },
    deleteThread: (threadId: string) => json({ type: "threads.delete", params: { thread_id: threadId } }),
    /** A widget action that answers with the updated item instead of a stream (the task-list checkbox). */
    async syncAction(threadId: string, itemId: string, action: { type: string; payload?: unknown }) {
      const answer = (await json({
        type: "threads.sync_custom_action",
        params: { thread_id: threadId, item_id: itemId, action },
      })) as { updated_item?: unknown };
      return answer.updated_item ? parseItem(answer.updated_item) : (null as ThreadItem | null);
    },
  };
}

export type ChatKitClient = ReturnType<typeof chatkitClient>;
