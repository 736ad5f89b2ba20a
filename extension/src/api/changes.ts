import { createParser } from "eventsource-parser";
import { type Connection, joinUrl } from "./client.ts";
import { ApiError } from "./errors.ts";
import { type Change, changeSchema } from "./schemas.ts";

/** "paused": newer panels of the account took this one's place; it waits for `reconnect()` (the user is back). */
export type StreamStatus = "connecting" | "live" | "reconnecting" | "paused" | "expired";

export type ChangeStreamOptions = {
  connection: Connection;
  /** Resume after this change (the last one applied); undefined starts from "now". */
  lastEventId?: string;
  /** The stream is open; `seq` is where it resumes from (the server's `ready` event). */
  onReady?: (seq: string) => void;
  onChanges: (changes: Change[], lastEventId: string) => void;
  onStatus?: (status: StreamStatus, detail?: string) => void;
  fetch?: typeof fetch;
  /** Delays between reconnects; the last one repeats. */
  backoffMs?: number[];
  /** With no byte (not even the server's heartbeat) for this long, the stream is presumed dead. */
  idleTimeoutMs?: number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
};

const DEFAULT_BACKOFF = [500, 1000, 2000, 5000, 10_000, 30_000];

const defaultSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

/** The reason of the server's `event: closed` (`{"reason": "signed_out" | "session_expired" | "too_many_streams"}`). */
function closeReason(data: string): unknown {
  try {
    return (JSON.parse(data) as { reason?: unknown })?.reason;
  } catch {
    return undefined;
  }
}

/** A refused stream waits at least the server's Retry-After (seconds), at most this long. */
const MAX_REFUSAL_WAIT_MS = 5 * 60_000;

/** A 429 or 503: how long the server asks the panel to wait, and a line for the user saying why. */
async function refusal(res: Response): Promise<{ waitMs: number; detail: string }> {
  const seconds = Number(res.headers.get("retry-after"));
  const waitMs = Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds * 1000, MAX_REFUSAL_WAIT_MS) : 0;
  await res.body?.cancel();
  const when = waitMs ? ` Retrying in ${Math.ceil(waitMs / 1000)} s.` : "";
  const detail = `Live updates paused: the server is busy.${when}`;
  return { waitMs, detail };
}

/**
 * Follows `/api/changes` over fetch (EventSource cannot send a bearer token). After a drop, a sleep or a
 * silent network loss (no heartbeat), it reconnects with `Last-Event-ID` = the last change it delivered,
 * so nothing is missed or repeated. A refused token ends it with status "expired"; a 429 or 503 waits at least
 * the server's Retry-After. A stream the server closed because the account opened newer ones is "paused" until
 * `reconnect()`.
 */
export function followChanges(opts: ChangeStreamOptions) {
  const doFetch = opts.fetch ?? fetch.bind(globalThis);
  const backoff = opts.backoffMs ?? DEFAULT_BACKOFF;
  const idleTimeoutMs = opts.idleTimeoutMs ?? 45_000;
  const sleep = opts.sleep ?? defaultSleep;
  const stopped = new AbortController();
  let lastEventId = opts.lastEventId;
  let failures = 0;
  let current: AbortController | undefined;
  let wake: AbortController | undefined;

  /** What the server said about a refused stream: wait this long (Retry-After), and why. */
  type Refusal = { waitMs: number; detail: string };

  async function connectOnce(): Promise<"retry" | "expired" | "paused" | Refusal> {
    const attempt = new AbortController();
    current = attempt;
    const onStop = () => attempt.abort();
    stopped.signal.addEventListener("abort", onStop);
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    const touch = () => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => attempt.abort(), idleTimeoutMs);
    };
    try {
      const headers: Record<string, string> = {
        authorization: `Bearer ${opts.connection.token}`,
        accept: "text/event-stream",
      };
      if (lastEventId !== undefined) headers["last-event-id"] = lastEventId;
      touch();
      const res = await doFetch(joinUrl(opts.connection.gatewayUrl, "/api/changes"), {
        headers,
        signal: attempt.signal,
        cache: "no-store",
      });
      if (res.status === 401) return "expired";
      if (res.status === 429 || res.status === 503) return await refusal(res);
      if (!res.ok || !res.body) throw new ApiError(res.status, "stream_failed", `HTTP ${res.status}`);
      let batch: Change[] = [];
      let batchId = "";
      let evicted = false;
      const parser = createParser({
        onEvent(event) {
          if (event.event === "ready") {
            failures = 0;
            if (event.id !== undefined && lastEventId === undefined) lastEventId = event.id;
            opts.onStatus?.("live");
            opts.onReady?.(event.id ?? lastEventId ?? "0");
          } else if (event.event === "change") {
            const parsed = changeSchema.safeParse(JSON.parse(event.data));
            if (parsed.success) batch.push(parsed.data);
            else console.warn("Margin: a change the panel does not understand", parsed.error.issues);
            if (event.id !== undefined) batchId = event.id;
          } else if (event.event === "shutdown") {
            attempt.abort();
          } else if (event.event === "closed") {
            // Reconnecting at once would close the account's next-oldest panel in turn.
            evicted = closeReason(event.data) === "too_many_streams";
          }
        },
      });
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        touch();
        parser.feed(value);
        // One callback per network chunk: a burst of changes renders once.
        if (batch.length) {
          lastEventId = batchId;
          const delivered = batch;
          batch = [];
          opts.onChanges(delivered, batchId);
        }
      }
      return evicted ? "paused" : "retry";
    } catch {
      return "retry";
    } finally {
      clearTimeout(idleTimer);
      stopped.signal.removeEventListener("abort", onStop);
    }
  }

  const done = (async () => {
    opts.onStatus?.("connecting");
    while (!stopped.signal.aborted) {
      const outcome = await connectOnce();
      if (stopped.signal.aborted) break;
      if (outcome === "expired") {
        opts.onStatus?.("expired", "Your session has expired. Sign in again.");
        return;
      }
      wake = new AbortController();
      const both = AbortSignal.any([stopped.signal, wake.signal]);
      if (outcome === "paused") {
        failures = 0;
        opts.onStatus?.("paused", "Live updates paused: newer Margin panels are open on this account.");
        if (!both.aborted)
          await new Promise((resolve) => both.addEventListener("abort", resolve, { once: true }));
        continue;
      }
      let delay = backoff[Math.min(failures, backoff.length - 1)]!;
      failures++;
      if (typeof outcome === "object") {
        delay = Math.max(delay, outcome.waitMs);
        opts.onStatus?.("reconnecting", outcome.detail);
      } else {
        opts.onStatus?.("reconnecting", "Live updates paused; reconnecting…");
      }
      await sleep(delay, both);
    }
  })();

  return {
    /** Reconnect now (the machine woke up, the network came back, the tab became visible). */
    reconnect() {
      failures = 0;
      if (wake) wake.abort();
      current?.abort();
    },
    get lastEventId() {
      return lastEventId;
    },
    close(): Promise<void> {
      stopped.abort();
      current?.abort();
      return done;
    },
  };
}
