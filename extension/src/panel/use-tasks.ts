import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { followChanges, type StreamStatus } from "../api/changes.ts";
import { type Connection, tasksApi } from "../api/client.ts";
import { describeError, isSessionExpired } from "../api/errors.ts";
import type { Task, TaskPatch } from "../api/schemas.ts";
import { markSessionExpired, type Session } from "../auth/session.ts";
import { tasksCacheItem } from "../tasks/cache.ts";
import { applyTask } from "../tasks/views.ts";

export type TasksState = {
  tasks: Map<string, Task>;
  /** Bumps on every change, so memoised views recompute. */
  version: number;
  loaded: boolean;
  stream: StreamStatus;
  error: string | null;
};

const COMPLETED_PAGE = 100;
const now = () => new Date().toISOString();

/** The signed-in user's tasks, painted from the cache, loaded from REST and kept live over SSE. */
export function useTasks(session: Session | null) {
  const [state, setState] = useState<TasksState>({
    tasks: new Map(),
    version: 0,
    loaded: false,
    stream: "connecting",
    error: null,
  });
  const tasksRef = useRef(new Map<string, Task>());
  const gatewayUrl = session && !session.expired ? session.gatewayUrl : null;
  const token = session && !session.expired ? session.token : null;
  const conn: Connection | null = useMemo(
    () => (gatewayUrl && token ? { gatewayUrl, token } : null),
    [gatewayUrl, token],
  );
  const userId = session?.user.id;

  // Chat's `tasks.changed` effect: the live stream normally brings the change too, but the list is read again
  // over REST so it is right even when the stream is stalled or down (and a stream that is down is woken).
  const catchUp = useRef<() => void>(() => {});
  const streamStatus = useRef<StreamStatus>("connecting");
  const cacheTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const publish = useCallback(
    (patch: Partial<TasksState> = {}) => {
      setState((s) => ({ ...s, ...patch, tasks: new Map(tasksRef.current), version: s.version + 1 }));
      // The badge and reminders follow the open tasks the panel sees live.
      clearTimeout(cacheTimer.current);
      cacheTimer.current = setTimeout(() => {
        if (!userId) return;
        const open = [...tasksRef.current.values()].filter((t) => t.status === "pending" && !t.deleted_at);
        void tasksCacheItem.setValue({ tasks: open, syncedAt: Date.now(), userId });
      }, 300);
    },
    [userId],
  );

  useEffect(() => {
    tasksRef.current = new Map();
    if (!conn || !userId) return;
    let alive = true;
    let loadedOnce = false;
    /** Tasks shown from the cache, with the version shown: gone on the server unless the listing has them. */
    const painted = new Map<string, string>();
    void tasksCacheItem.getValue().then((cache) => {
      if (!alive || loadedOnce || cache?.userId !== userId) return;
      for (const t of cache.tasks) if (applyTask(tasksRef.current, t)) painted.set(t.id, t.updated_at);
      setState((s) => ({ ...s, tasks: new Map(tasksRef.current), version: s.version + 1 }));
    });

    const api = tasksApi(conn);
    /**
     * Reads the open tasks and the latest completed ones. `stale` are tasks shown as of a version: the ones the
     * listing lacks (deleted or finished elsewhere) go, unless they changed meanwhile.
     */
    const load = async (stale: Map<string, string>) => {
      try {
        const [open, done] = await Promise.all([
          api.listAll({ status: "pending" }),
          api.list({ status: "completed", limit: COMPLETED_PAGE }),
        ]);
        if (!alive) return;
        loadedOnce = true;
        const listed = [...open, ...done.tasks];
        const ids = new Set(listed.map((t) => t.id));
        for (const [id, version] of stale)
          if (!ids.has(id) && tasksRef.current.get(id)?.updated_at === version) tasksRef.current.delete(id);
        for (const t of listed) applyTask(tasksRef.current, t);
        publish({ loaded: true, error: null });
      } catch (err) {
        if (!alive) return;
        if (isSessionExpired(err)) await markSessionExpired(conn.token);
        setState((s) => ({ ...s, loaded: true, error: describeError(err) }));
      }
    };
    let refreshing = false;
    let again = false;
    const refresh = async () => {
      if (refreshing) {
        again = true;
        return;
      }
      refreshing = true;
      do {
        again = false;
        const open = new Map<string, string>();
        for (const t of tasksRef.current.values())
          if (t.status === "pending" && !t.deleted_at) open.set(t.id, t.updated_at);
        await load(open);
      } while (again && alive);
      refreshing = false;
    };

    const stream = followChanges({
      connection: conn,
      onReady: () => {
        if (!loadedOnce) void load(painted);
        else setState((s) => ({ ...s, error: null }));
      },
      onChanges: (changes) => {
        let changed = false;
        for (const c of changes) changed = applyTask(tasksRef.current, c.task) || changed;
        if (changed) publish();
      },
      onStatus: (status, detail) => {
        streamStatus.current = status;
        if (status === "expired") void markSessionExpired(conn.token);
        setState((s) => ({
          ...s,
          stream: status,
          error: status === "reconnecting" && !loadedOnce ? (detail ?? null) : s.error,
        }));
        // Without a stream there is no first listing either: load what REST can give.
        if (status === "reconnecting" && !loadedOnce) void load(painted);
      },
    });
    const wake = () => stream.reconnect();
    catchUp.current = () => {
      if (streamStatus.current !== "live") stream.reconnect();
      void refresh();
    };
    const onVisible = () => document.visibilityState === "visible" && stream.reconnect();
    window.addEventListener("online", wake);
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      alive = false;
      window.removeEventListener("online", wake);
      document.removeEventListener("visibilitychange", onVisible);
      void stream.close();
    };
  }, [conn, userId, publish]);

  /** Runs one change: shown at once, then confirmed (or undone) by the server's answer. */
  const mutate = useCallback(
    async (
      id: string,
      optimistic: Partial<Task> | null,
      call: (api: ReturnType<typeof tasksApi>) => Promise<Task>,
    ) => {
      if (!conn) return null;
      const before = tasksRef.current.get(id);
      if (before && optimistic) {
        tasksRef.current.set(id, { ...before, ...optimistic });
        publish();
      }
      try {
        const task = await call(tasksApi(conn));
        applyTask(tasksRef.current, task);
        publish({ error: null });
        return task;
      } catch (err) {
        if (before) tasksRef.current.set(id, before);
        if (isSessionExpired(err)) await markSessionExpired(conn.token);
        publish({ error: describeError(err) });
        return null;
      }
    },
    [conn, publish],
  );

  const actions = useMemo(
    () => ({
      complete: (id: string) =>
        mutate(id, { status: "completed", completed_at: now() }, (a) => a.complete(id)),
      reopen: (id: string) => mutate(id, { status: "pending", completed_at: null }, (a) => a.reopen(id)),
      remove: (id: string) => mutate(id, { deleted_at: now() }, (a) => a.remove(id)),
      restore: (id: string) => mutate(id, { deleted_at: null }, (a) => a.restore(id)),
      update: (id: string, patch: TaskPatch) => mutate(id, null, (a) => a.update(id, patch)),
      /** A task the background just created (from the outbox): show it before its change event arrives. */
      add: (task: Task) => {
        applyTask(tasksRef.current, task);
        publish();
      },
      /** Something else (the chat) changed tasks: make sure the list catches up. */
      catchUp: () => catchUp.current(),
      dismissError: () => setState((s) => ({ ...s, error: null })),
    }),
    [mutate, publish],
  );

  return { ...state, actions, connection: conn };
}
