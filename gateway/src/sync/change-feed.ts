import { and, asc, eq, gt, max, sql } from "drizzle-orm";
import type { Database } from "../db/connect.ts";
import { type ChangeOp, taskChanges } from "../db/task-schema.ts";
import type { Logger } from "../logger.ts";
import type { TaskView } from "../tasks/view.ts";

/** One change-log row as streams carry it. `seq` is the resume point. */
export type ChangeEvent = { seq: number; op: ChangeOp; task_id: string; task: TaskView; at: string };

export type ChangeFeed = {
  /** Starts the one LISTEN connection. Subscribe after it resolves so no commit falls between. */
  start(): Promise<void>;
  /**
   * Delivers the user's changes with `seq > afterSeq`, first from the table, then live, each exactly
   * once and in seq order. `onEnd` runs if the feed closes first. Returns the unsubscribe function.
   */
  subscribe(
    userId: string,
    afterSeq: number,
    send: (events: ChangeEvent[]) => void,
    onEnd?: () => void,
  ): () => void;
  /** The user's newest seq (0 when none): where a stream starting "now" begins. */
  latestSeq(userId: string): Promise<number>;
  subscriberCount(): number;
  /** Stops listening and ends every subscription (their `onEnd` runs). */
  close(): Promise<void>;
};

const CHANGES_CHANNEL = "task_changes";
const RETRY_MS = 1_000;

type Subscriber = {
  cursor: number;
  send: (events: ChangeEvent[]) => void;
  onEnd: (() => void) | undefined;
  active: boolean;
};

/** All subscribers of one user. One fetch loop per user at a time keeps delivery ordered and unique. */
type UserGroup = { userId: string; subs: Set<Subscriber>; running: boolean; dirty: boolean };

export function createChangeFeed(
  database: Database,
  opts: { logger: Logger; batchLimit?: number },
): ChangeFeed {
  const { db } = database;
  const log = opts.logger.child({ component: "change-feed" });
  const batchLimit = opts.batchLimit ?? 500;
  const groups = new Map<string, UserGroup>();
  let unlisten: (() => Promise<void>) | undefined;
  let closed = false;
  let subscriberTotal = 0;

  // Every read is scoped to one user: a stream can only ever carry its own user's rows.
  const changesAfter = db
    .select({
      seq: taskChanges.seq,
      op: taskChanges.op,
      taskId: taskChanges.taskId,
      task: taskChanges.task,
      at: taskChanges.at,
    })
    .from(taskChanges)
    .where(
      and(eq(taskChanges.userId, sql.placeholder("userId")), gt(taskChanges.seq, sql.placeholder("after"))),
    )
    .orderBy(asc(taskChanges.seq))
    .limit(sql.placeholder("limit"))
    .prepare("change_feed_after");

  async function fetchAfter(userId: string, after: number): Promise<ChangeEvent[]> {
    const rows = await changesAfter.execute({ userId, after, limit: batchLimit });
    return rows.map((r) => ({
      seq: r.seq,
      op: r.op,
      task_id: r.taskId,
      task: r.task as TaskView,
      at: r.at.toISOString(),
    }));
  }

  function deliver(sub: Subscriber, rows: ChangeEvent[]) {
    const fresh = rows.filter((r) => r.seq > sub.cursor);
    const last = fresh.at(-1);
    if (!sub.active || !last) return;
    sub.cursor = last.seq;
    try {
      sub.send(fresh);
    } catch (err) {
      log.warn({ err }, "change subscriber failed to take events");
    }
  }

  /**
   * Brings every subscriber of the user up to date. Subscribers sharing a cursor share one query; a
   * subscriber paging through old history doesn't hold back the others past one batch. Calls made while a
   * round runs set `dirty` and cause one more round, so a burst of notifications costs few queries.
   */
  async function pump(group: UserGroup): Promise<void> {
    if (group.running) {
      group.dirty = true;
      return;
    }
    group.running = true;
    try {
      let more = true;
      while (more && !closed) {
        group.dirty = false;
        more = false;
        const waiting = [...group.subs].sort((a, b) => a.cursor - b.cursor);
        let i = 0;
        while (i < waiting.length) {
          const from = waiting[i]!.cursor;
          const rows = await fetchAfter(group.userId, from);
          const full = rows.length === batchLimit;
          // A full batch covers only up to its last row: subscribers past it need their own query.
          const end = full ? rows.at(-1)!.seq : Number.POSITIVE_INFINITY;
          for (; i < waiting.length && waiting[i]!.cursor < end; i++) deliver(waiting[i]!, rows);
          if (full) more = true;
        }
        if (group.dirty) more = true;
      }
    } catch (err) {
      if (closed) return;
      log.error({ err, userId: group.userId }, "change feed fetch failed; retrying");
      setTimeout(() => void pump(group), RETRY_MS).unref();
    } finally {
      group.running = false;
    }
  }

  function onNotify(payload: string) {
    let note: { seq: number; user_id: string };
    try {
      note = JSON.parse(payload);
    } catch {
      log.warn({ payload }, "unreadable task_changes notification");
      return;
    }
    const group = groups.get(note.user_id);
    if (!group) return;
    // Rows a catch-up already delivered are announced too; only wake the loop when someone is behind.
    for (const sub of group.subs) {
      if (sub.cursor < note.seq) {
        void pump(group);
        return;
      }
    }
  }

  let listens = 0;
  function onListen() {
    // Notifications sent while the listen connection was down are lost: resync everyone from the table.
    if (++listens > 1) log.warn({ listens }, "re-listened on task_changes; resyncing subscribers");
    for (const group of groups.values()) void pump(group);
  }

  return {
    async start() {
      unlisten = await database.listen(CHANGES_CHANNEL, onNotify, onListen);
    },

    subscribe(userId, afterSeq, send, onEnd) {
      if (closed) throw new Error("change feed is closed");
      let group = groups.get(userId);
      if (!group) {
        group = { userId, subs: new Set(), running: false, dirty: false };
        groups.set(userId, group);
      }
      const sub: Subscriber = { cursor: afterSeq, send, onEnd, active: true };
      group.subs.add(sub);
      subscriberTotal++;
      void pump(group);
      const owner = group;
      return () => {
        if (!sub.active) return;
        sub.active = false;
        subscriberTotal--;
        owner.subs.delete(sub);
        if (owner.subs.size === 0 && groups.get(userId) === owner) groups.delete(userId);
      };
    },

    async latestSeq(userId) {
      const [row] = await db
        .select({ seq: max(taskChanges.seq) })
        .from(taskChanges)
        .where(eq(taskChanges.userId, userId));
      return Number(row?.seq ?? 0);
    },

    subscriberCount: () => subscriberTotal,

    async close() {
      if (closed) return;
      closed = true;
      const subs = [...groups.values()].flatMap((g) => [...g.subs]);
      groups.clear();
      subscriberTotal = 0;
      for (const sub of subs) {
        sub.active = false;
        try {
          sub.onEnd?.();
        } catch (err) {
          log.warn({ err }, "change subscriber failed to end");
        }
      }
      await unlisten?.();
    },
  };
}
