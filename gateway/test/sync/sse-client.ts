import type { ChangeEvent } from "../../src/sync/change-feed.ts";

export type SseMessage = { id: string | undefined; event: string; data: string };

export type SseStream = {
  status: number;
  headers: Headers;
  /** Everything received so far, in order. */
  messages: SseMessage[];
  comments: string[];
  /** The `change` events received so far. */
  changes(): ChangeEvent[];
  /** Resolves with `check()`'s first truthy result; rejects after `timeoutMs`. */
  waitFor<T>(check: () => T | undefined | false, timeoutMs?: number, what?: string): Promise<T>;
  /** Whether the stream has ended (server or `close()`). */
  isEnded(): boolean;
  close(): void;
};

/** A minimal EventSource over fetch's body stream: enough to read the gateway's SSE in tests. */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const abort = new AbortController();
  const res = await fetch(url, { headers, signal: abort.signal });
  const messages: SseMessage[] = [];
  const comments: string[] = [];
  const waiters = new Set<() => void>();
  let isEnded = false;

  async function read() {
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          parseBlock(buffer.slice(0, end), messages, comments);
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf("\n\n");
        }
        for (const wake of waiters) wake();
      }
    } catch {
      // Aborted by close(), or the connection dropped: either way the stream has ended.
    }
    isEnded = true;
    for (const wake of waiters) wake();
  }

  void read();
  return {
    status: res.status,
    headers: res.headers,
    messages,
    comments,
    changes: () => messages.filter((m) => m.event === "change").map((m) => JSON.parse(m.data) as ChangeEvent),
    async waitFor(check, timeoutMs = 3_000, what = "condition") {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = check();
        if (value) return value;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            waiters.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, left);
          waiters.add(wake);
        });
      }
    },
    isEnded: () => isEnded,
    close: () => abort.abort(),
  };
}

function parseBlock(block: string, messages: SseMessage[], comments: string[]) {
  const message: SseMessage = { id: undefined, event: "message", data: "" };
  let hasData = false;
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) {
      comments.push(line.slice(1).trim());
      continue;
    }
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "id") message.id = value;
    else if (field === "event") message.event = value;
    else if (field === "data") {
      message.data = hasData ? `${message.data}\n${value}` : value;
      hasData = true;
    }
  }
  if (hasData) messages.push(message);
}
