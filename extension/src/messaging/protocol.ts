import { browser } from "wxt/browser";
import type { NewTask, Task } from "../api/schemas.ts";
import type { PageInfo } from "../capture/page.ts";

/**
 * Messages between the panel and the background, typed end to end: the background owns the outbox,
 * reminders and badge; the panel asks it to act.
 */
export type Protocol = {
  /** Store a capture in the outbox and try to send it. Answers the outbox entry id. */
  capture: { data: { page: PageInfo }; result: { id: string } };
  /** Store a typed task (quick-add) in the outbox and try to send it. */
  addTask: { data: { task: NewTask }; result: { id: string } };
  outboxEdit: { data: { id: string; task: NewTask }; result: null };
  outboxDiscard: { data: { id: string }; result: null };
  outboxRetry: { data: null; result: null };
  /** The panel signed in or out: re-sync, flush the outbox, refresh badge and reminders. */
  sessionChanged: { data: null; result: null };
  /** The background delivered a capture (the panel shows it with Undo). Sent to the panel. */
  captureDelivered: { data: { entryId: string; task: Task }; result: null };
  /** The page script saw the selection change. */
  selectionChanged: { data: { text: string }; result: null };
};

type Envelope<K extends keyof Protocol = keyof Protocol> = { margin: K; data: Protocol[K]["data"] };

export async function sendMessage<K extends keyof Protocol>(
  type: K,
  data: Protocol[K]["data"],
): Promise<Protocol[K]["result"]> {
  const answer = (await browser.runtime.sendMessage({ margin: type, data } satisfies Envelope<K>)) as
    | { ok: true; result: Protocol[K]["result"] }
    | { ok: false; error: string }
    | undefined;
  if (!answer) throw new Error(`No one handled "${type}".`);
  if (!answer.ok) throw new Error(answer.error);
  return answer.result;
}

type Handler<K extends keyof Protocol> = (
  data: Protocol[K]["data"],
  sender: { tab?: { id?: number } },
) => Protocol[K]["result"] | Promise<Protocol[K]["result"]>;

/** Answers messages of one type; returns the function that stops listening. */
export function onMessage<K extends keyof Protocol>(type: K, handler: Handler<K>): () => void {
  // Chromium (no polyfill) needs sendResponse + `return true`; where no sendResponse is passed, a promise answers.
  const listener = (
    message: unknown,
    sender: { tab?: { id?: number } },
    sendResponse?: (answer: unknown) => void,
  ) => {
    const m = message as Partial<Envelope> | undefined;
    if (!m || m.margin !== type) return undefined;
    const answer = Promise.resolve()
      .then(() => handler(m.data as Protocol[K]["data"], sender))
      .then(
        (result) => ({ ok: true, result: result ?? null }),
        (err: unknown) => ({ ok: false, error: err instanceof Error ? err.message : String(err) }),
      );
    if (typeof sendResponse !== "function") return answer;
    void answer.then(sendResponse);
    return true;
  };
  browser.runtime.onMessage.addListener(listener as never);
  return () => browser.runtime.onMessage.removeListener(listener as never);
}
