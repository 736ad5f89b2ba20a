import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from "react";
import type { Connection } from "../api/client.ts";
import { describeError, isSessionExpired } from "../api/errors.ts";
import { markSessionExpired } from "../auth/session.ts";
import { chatkitClient } from "./client.ts";
import type { PageContext } from "./frame-protocol.ts";
import {
  type StreamingRequest,
  type ThreadMeta,
  userInput,
  type WidgetAction,
  withPage,
} from "./protocol.ts";
import { chatReducer, emptyChat } from "./reducer.ts";

const OPEN_THREAD_KEY = "margin:chat-thread";

/**
 * The built-in chat: one open thread driven by the ChatKit protocol, the thread list, and the page context
 * sent with every turn. `onEffect` receives client effects (tasks.changed).
 */
export function useChat(opts: {
  conn: Connection;
  page: PageContext | null;
  onEffect(name: string, data: Record<string, unknown>): void;
}) {
  const { conn } = opts;
  const client = useMemo(() => chatkitClient(conn), [conn]);
  const [state, dispatch] = useReducer(chatReducer, emptyChat);
  /** The history as far as it was paged in; `after` is where the next page starts (null: nothing more). */
  const [threads, setThreads] = useState<{ list: ThreadMeta[]; after: string | null } | null>(null);
  const latest = useRef({ state, page: opts.page, onEffect: opts.onEffect });
  latest.current = { state, page: opts.page, onEffect: opts.onEffect };
  const running = useRef<AbortController | null>(null);
  /** What Retry sends after a failed request (the same request, or retry_after_item after an error event). */
  const retryWith = useRef<StreamingRequest | null>(null);

  useEffect(() => () => running.current?.abort(), []);
  const [restore] = useState(() => sessionStorage.getItem(OPEN_THREAD_KEY));
  // The open thread outlives a switch to another view (the chat view unmounts): reopen it on return.
  useEffect(() => {
    if (state.threadId) sessionStorage.setItem(OPEN_THREAD_KEY, state.threadId);
    else sessionStorage.removeItem(OPEN_THREAD_KEY);
  }, [state.threadId]);

  const run = useCallback(
    async (request: StreamingRequest, userText?: string) => {
      running.current?.abort();
      const controller = new AbortController();
      running.current = controller;
      const isMessage = request.type === "threads.create" || request.type === "threads.add_user_message";
      // Read from the events as they arrive (a render may not come between the echo and an error event).
      let threadId = "thread_id" in request.params ? request.params.thread_id : null;
      let storedMessage: string | null = null;
      /** What Retry sends: the same request, unless the server already stored the message (then answer it). */
      const retryRequest = (): StreamingRequest =>
        isMessage && threadId && storedMessage
          ? { type: "threads.retry_after_item", params: { thread_id: threadId, item_id: storedMessage } }
          : request;
      dispatch({
        type: "turn-started",
        userText,
        keepThrough: request.type === "threads.retry_after_item" ? request.params.item_id : undefined,
      });
      try {
        await client.stream(
          withPage(request, latest.current.page),
          (event) => {
            if (event.type === "thread.created") threadId = event.thread.id;
            if (event.type === "thread.item.done" && event.item.type === "user_message")
              storedMessage = event.item.id;
            if (event.type === "client_effect") latest.current.onEffect(event.name, event.data);
            if (event.type === "error" && event.allow_retry) retryWith.current = retryRequest();
            dispatch({ type: "event", event });
          },
          controller.signal,
        );
        dispatch({ type: "turn-ended" });
      } catch (err) {
        if (controller.signal.aborted) dispatch({ type: "turn-ended" });
        else {
          if (isSessionExpired(err)) void markSessionExpired(conn.token);
          retryWith.current = retryRequest();
          dispatch({ type: "failed", message: describeError(err), retry: true });
        }
      } finally {
        if (running.current === controller) running.current = null;
      }
    },
    [client, conn.token],
  );

  const send = useCallback(
    (text: string) => {
      const threadId = latest.current.state.threadId;
      const input = userInput(text);
      return run(
        threadId
          ? { type: "threads.add_user_message", params: { thread_id: threadId, input } }
          : { type: "threads.create", params: { input } },
        text,
      );
    },
    [run],
  );

  const action = useCallback(
    async (itemId: string, act: WidgetAction) => {
      const threadId = latest.current.state.threadId;
      if (!threadId) return;
      const plain = { type: act.type, payload: act.payload };
      if (act.streaming === false) {
        // The task-list checkbox: answered with the updated widget, no turn.
        try {
          const item = await client.syncAction(threadId, itemId, plain);
          if (item) dispatch({ type: "item", item });
          latest.current.onEffect("tasks.changed", {});
        } catch (err) {
          if (isSessionExpired(err)) void markSessionExpired(conn.token);
          dispatch({ type: "failed", message: describeError(err), retry: false });
        }
        return;
      }
      await run({
        type: "threads.custom_action",
        params: { thread_id: threadId, item_id: itemId, action: plain },
      });
    },
    [client, run, conn.token],
  );

  const loadThreads = useCallback(async () => {
    try {
      const page = await client.listThreads();
      setThreads({ list: page.threads, after: page.after });
    } catch (err) {
      dispatch({ type: "failed", message: describeError(err), retry: false });
    }
  }, [client]);

  const moreThreads = useCallback(async () => {
    const after = threads?.after;
    if (!after) return;
    try {
      const page = await client.listThreads(after);
      setThreads((t) => {
        // Another page may have landed meanwhile: keep each thread once.
        const known = new Set(t?.list.map((x) => x.id));
        return {
          list: [...(t?.list ?? []), ...page.threads.filter((x) => !known.has(x.id))],
          after: page.after,
        };
      });
    } catch (err) {
      dispatch({ type: "failed", message: describeError(err), retry: false });
    }
  }, [client, threads?.after]);

  const open = useCallback(
    async (threadId: string) => {
      running.current?.abort();
      try {
        dispatch({ type: "open", thread: await client.getThread(threadId) });
      } catch (err) {
        dispatch({ type: "failed", message: describeError(err), retry: false });
      }
    },
    [client],
  );

  useEffect(() => {
    if (!restore) return;
    client.getThread(restore).then(
      (thread) => latest.current.state.threadId || dispatch({ type: "open", thread }),
      () => {}, // deleted meanwhile: start fresh
    );
  }, [client, restore]);

  return {
    state,
    threads,
    send,
    action,
    stop: () => running.current?.abort(),
    retry: () => {
      const request = retryWith.current;
      if (request) void run(request);
    },
    dismiss: () => dispatch({ type: "dismiss" }),
    newThread: () => {
      running.current?.abort();
      dispatch({ type: "new" });
    },
    open,
    loadThreads,
    moreThreads,
    // Changed in place: reloading would fold the list back to its first page.
    async rename(threadId: string, title: string) {
      try {
        const renamed = await client.renameThread(threadId, title);
        setThreads((t) => t && { ...t, list: t.list.map((x) => (x.id === threadId ? renamed : x)) });
        dispatch({ type: "renamed", threadId, title: renamed.title ?? null });
      } catch (err) {
        dispatch({ type: "failed", message: describeError(err), retry: false });
      }
    },
    async remove(threadId: string) {
      try {
        await client.deleteThread(threadId);
        setThreads((t) => t && { ...t, list: t.list.filter((x) => x.id !== threadId) });
        if (latest.current.state.threadId === threadId) dispatch({ type: "new" });
      } catch (err) {
        dispatch({ type: "failed", message: describeError(err), retry: false });
      }
    },
  };
}

export type Chat = ReturnType<typeof useChat>;
