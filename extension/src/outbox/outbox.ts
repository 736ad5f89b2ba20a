import { storage } from "wxt/utils/storage";
import { ApiError, describeError, isRetryable } from "../api/errors.ts";
import type { NewTask, Task } from "../api/schemas.ts";

/** Where a capture came from: the panel confirms its own; menus and the shortcut confirm by notification. */
export type CaptureOrigin = "panel" | "menu" | "command";

export type OutboxEntry = {
  /** Client-generated; sent as the Idempotency-Key, so a retry never makes a second task. */
  id: string;
  task: NewTask;
  origin: CaptureOrigin;
  createdAt: number;
  attempts: number;
  nextAttemptAt: number;
  state: "pending" | "rejected";
  /** Why the last attempt did not go through (shown beside "pending"). */
  lastError?: string;
  /** The server refused this capture (4xx): its message, kept until the user edits or discards it. */
  rejection?: { status: number; message: string };
};

/** Durable: every capture is written here before anything is sent, and survives a browser restart. */
export const outboxItem = storage.defineItem<OutboxEntry[]>("local:outbox", { fallback: [], version: 1 });

/** Nobody is signed in (or the session expired): keep the capture until someone is. */
export class SignedOutError extends Error {
  override name = "SignedOutError";
}

const BASE_DELAY_MS = 5_000;
const MAX_DELAY_MS = 10 * 60_000;

/** Exponential backoff with ±20 % jitter, so many browsers do not retry in lockstep after an outage. */
export function backoffMs(attempts: number, random: () => number = Math.random): number {
  const exp = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(exp * (0.8 + 0.4 * random()));
}

export type OutboxDeps = {
  /** Sends one capture; resolves with the created (or replayed) task. */
  send: (entry: OutboxEntry) => Promise<Task>;
  /** Called once per capture the server confirmed. */
  onDelivered?: (entry: OutboxEntry, task: Task) => void | Promise<void>;
  /** Asks to be woken at `at` (epoch ms) to retry, or cancels the wake-up (null). */
  scheduleWake: (at: number | null) => void | Promise<void>;
  now?: () => number;
  random?: () => number;
  newId?: () => string;
};

/**
 * The capture outbox. One owner (the background) writes it; every operation runs in order through one
 * queue, so concurrent captures and retries never overwrite each other's view of the stored list.
 */
export function createOutbox(deps: OutboxDeps) {
  const now = deps.now ?? Date.now;
  const newId = deps.newId ?? (() => crypto.randomUUID());
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => {});
    return next;
  };

  const update = async (id: string, change: (e: OutboxEntry) => OutboxEntry | null) => {
    const entries = await outboxItem.getValue();
    const next: OutboxEntry[] = [];
    for (const e of entries) {
      if (e.id !== id) next.push(e);
      else {
        const changed = change(e);
        if (changed) next.push(changed);
      }
    }
    await outboxItem.setValue(next);
  };

  async function reschedule() {
    const pending = (await outboxItem.getValue()).filter((e) => e.state === "pending");
    await deps.scheduleWake(pending.length ? Math.min(...pending.map((e) => e.nextAttemptAt)) : null);
  }

  async function flushNow(): Promise<Task[]> {
    const delivered: Task[] = [];
    const due = (await outboxItem.getValue()).filter(
      (e) => e.state === "pending" && e.nextAttemptAt <= now(),
    );
    for (const [index, entry] of due.entries()) {
      try {
        const task = await deps.send(entry);
        await update(entry.id, () => null);
        delivered.push(task);
        await deps.onDelivered?.(entry, task);
      } catch (err) {
        if (isRetryable(err) || err instanceof SignedOutError) {
          const attempts = entry.attempts + 1;
          const retryAt = now() + backoffMs(attempts, deps.random);
          const lastError = err instanceof SignedOutError ? "Waiting for sign-in." : describeError(err);
          // The same cause will fail the rest too: they wait for the same retry, without counting an attempt.
          for (const rest of due.slice(index)) {
            await update(rest.id, (e) =>
              e.id === entry.id
                ? { ...e, attempts, nextAttemptAt: retryAt, lastError }
                : { ...e, nextAttemptAt: retryAt, lastError },
            );
          }
          break;
        }
        const rejection =
          err instanceof ApiError
            ? { status: err.status, message: err.message }
            : { status: 0, message: describeError(err) };
        await update(entry.id, (e) => ({ ...e, state: "rejected", rejection, lastError: undefined }));
      }
    }
    await reschedule();
    return delivered;
  }

  return {
    /** Stores a capture, then tries to send it (and anything else due). Resolves with the stored entry. */
    enqueue(task: NewTask, origin: CaptureOrigin): Promise<OutboxEntry> {
      return serial(async () => {
        const entry: OutboxEntry = {
          id: newId(),
          task,
          origin,
          createdAt: now(),
          attempts: 0,
          nextAttemptAt: now(),
          state: "pending",
        };
        await outboxItem.setValue([...(await outboxItem.getValue()), entry]);
        void serial(flushNow);
        return entry;
      });
    },
    /** Sends every capture that is due; returns the tasks the server confirmed. */
    flush: (): Promise<Task[]> => serial(flushNow),
    /** Sends everything waiting now, ignoring backoff (sign-in, the gateway came back, "Retry now"). */
    retryAll: (): Promise<Task[]> =>
      serial(async () => {
        const t = now();
        await outboxItem.setValue(
          (await outboxItem.getValue()).map((e) => (e.state === "pending" ? { ...e, nextAttemptAt: t } : e)),
        );
        return flushNow();
      }),
    /** A rejected capture, corrected by the user: send again under the same key. */
    edit: (id: string, task: NewTask): Promise<Task[]> =>
      serial(async () => {
        await update(id, (e) => ({
          ...e,
          task,
          state: "pending",
          rejection: undefined,
          nextAttemptAt: now(),
        }));
        return flushNow();
      }),
    discard: (id: string): Promise<void> =>
      serial(async () => {
        await update(id, () => null);
        await reschedule();
      }),
    /** Waits for everything queued so far (tests, shutdown). */
    idle: (): Promise<void> => serial(async () => {}),
  };
}

export type Outbox = ReturnType<typeof createOutbox>;
