import { AgentTurnError } from "../agent/contract.ts";
import type { Logger } from "../logger.ts";
import { TaskServiceError } from "../task-service/errors.ts";
import { ChatKitError, StreamError } from "./errors.ts";
import type { ChatStore } from "./store.ts";
import { generateId } from "./store.ts";
import type { Thread, ThreadItem, ThreadItemUpdate, ThreadMetadata, ThreadStreamEvent } from "./types.ts";

export type StreamContext = {
  store: ChatStore;
  signal: AbortSignal;
  log: Logger;
  /** The thread's first write, still committing when the turn starts: every later write waits for it. */
  stored?: Promise<unknown>;
};

const CANCELLED_NOTE = "The user cancelled the stream. Stop responding to the prior request.";

/** The thread as clients see it: `metadata` is server-private and never sent (`server.py:_to_thread_response`). */
export function toThreadResponse(thread: ThreadMetadata, items: ThreadItem[] = [], hasMore = false): Thread {
  return {
    title: thread.title,
    id: thread.id,
    created_at: thread.created_at,
    status: thread.status,
    allowed_image_domains: thread.allowed_image_domains,
    metadata: {},
    items: { data: items, has_more: hasMore },
  };
}

const visibleState = (t: ThreadMetadata) => JSON.stringify([t.title, t.status, t.allowed_image_domains]);
const fullState = (t: ThreadMetadata) =>
  JSON.stringify([t.title, t.status, t.allowed_image_domains, t.metadata]);

/**
 * The stream loop of `server.py:_process_events`: `stream_options` first; persistence driven by the events
 * (`done` → add, `replaced` → save, `removed` → delete); hidden items stored but not sent; the thread saved
 * whenever the responder changed it (`thread.updated` only when a client-visible field changed); a failure
 * becomes one `error` event; a disconnect aborts the responder and keeps what the user already saw.
 *
 * Finished items and thread changes are written together when the stream ends (or before a replace or remove
 * of a stored item): one statement per turn, not one per item, on the way to the user's next event.
 */
export async function* processEvents(
  ctx: StreamContext,
  thread: ThreadMetadata,
  respond: () => AsyncIterable<ThreadStreamEvent>,
): AsyncGenerator<ThreadStreamEvent> {
  yield { type: "stream_options", stream_options: { allow_cancel: true } };
  let visible = visibleState(thread);
  let full = fullState(thread);
  const pending = new Map<string, ThreadItem>();
  const unsaved: ThreadItem[] = [];

  async function save() {
    await ctx.stored;
    const changed = fullState(thread) !== full;
    if (unsaved.length === 0 && !changed) return;
    full = fullState(thread);
    await ctx.store.saveTurn(thread.id, unsaved.splice(0), changed ? thread : undefined);
  }

  function* threadUpdated(): Generator<ThreadStreamEvent> {
    if (visibleState(thread) === visible) return;
    visible = visibleState(thread);
    yield { type: "thread.updated", thread: toThreadResponse(thread) };
  }

  try {
    for await (const event of abortable(respond(), ctx.signal)) {
      switch (event.type) {
        case "thread.item.added":
          pending.set(event.item.id, ownCopy(event.item));
          break;
        case "thread.item.updated":
          applyUpdate(pending, event.item_id, event.update);
          break;
        case "thread.item.done":
          unsaved.push(event.item);
          pending.delete(event.item.id);
          break;
        case "thread.item.replaced":
          await save();
          await ctx.store.saveItem(thread.id, event.item);
          pending.delete(event.item.id);
          break;
        case "thread.item.removed": {
          const index = unsaved.findIndex((i) => i.id === event.item_id);
          if (index >= 0) unsaved.splice(index, 1);
          else {
            await save();
            await ctx.store.deleteThreadItem(thread.id, event.item_id);
          }
          pending.delete(event.item_id);
          break;
        }
      }
      const hidden =
        event.type === "thread.item.done" &&
        (event.item.type === "hidden_context_item" || event.item.type === "sdk_hidden_context");
      if (!hidden) yield event;
      yield* threadUpdated();
    }
    await save();
  } catch (err) {
    if (ctx.signal.aborted) {
      await save();
      await saveCancelled(ctx, thread, [...pending.values()]);
      return;
    }
    // What finished before the failure stays: the thread is consistent with what the user saw.
    await save().catch((saveErr: unknown) => ctx.log.error({ err: saveErr }, "chat transcript not saved"));
    yield errorEvent(err, ctx.log);
  }
  yield* threadUpdated();
}

/** `handle_stream_cancelled`: keep the partial answer the user saw, and tell the model the user stopped it. */
async function saveCancelled(ctx: StreamContext, thread: ThreadMetadata, pending: ThreadItem[]) {
  await ctx.stored;
  const partial = pending.filter(
    (item) => item.type === "assistant_message" && item.content.some((c) => c.text.trim()),
  );
  await ctx.store.saveTurn(thread.id, [
    ...partial,
    {
      id: generateId("sdk_hidden_context"),
      thread_id: thread.id,
      created_at: new Date().toISOString(),
      type: "sdk_hidden_context",
      content: CANCELLED_NOTE,
    },
  ]);
}

/**
 * A pending item that `applyUpdate` may change, apart from the event the client was sent. The two kinds it
 * changes are copied as deep as it writes (structuredClone cost more than the rest of the loop); others are kept.
 */
function ownCopy(item: ThreadItem): ThreadItem {
  if (item.type === "assistant_message")
    return { ...item, content: item.content.map((c) => ({ ...c, annotations: [...c.annotations] })) };
  if (item.type === "workflow")
    return { ...item, workflow: { ...item.workflow, tasks: item.workflow.tasks.map((t) => ({ ...t })) } };
  return item;
}

/** Keeps pending assistant messages and workflows current, so a cancel can save what was shown. */
function applyUpdate(pending: Map<string, ThreadItem>, itemId: string, update: ThreadItemUpdate) {
  const item = pending.get(itemId);
  if (item?.type === "assistant_message") {
    if (!update.type.startsWith("assistant_message.")) return;
    const index = (update as { content_index: number }).content_index;
    while (item.content.length <= index)
      item.content.push({ type: "output_text", text: "", annotations: [] });
    if (update.type === "assistant_message.content_part.text_delta")
      item.content[index]!.text += update.delta;
    else if (
      update.type === "assistant_message.content_part.added" ||
      update.type === "assistant_message.content_part.done"
    )
      item.content[index] = { ...update.content, annotations: [...update.content.annotations] };
  } else if (item?.type === "workflow") {
    if (update.type === "workflow.task.added") item.workflow.tasks.push({ ...update.task });
    else if (update.type === "workflow.task.updated")
      item.workflow.tasks[update.task_index] = { ...update.task };
  }
}

/** What the user reads when something failed: our own messages are meant for people; anything else is not. */
export function errorEvent(err: unknown, log: Logger): ThreadStreamEvent {
  if (err instanceof StreamError) return custom(err.message, err.allowRetry);
  if (err instanceof AgentTurnError) return custom(err.message, err.retryable);
  if (err instanceof TaskServiceError) {
    log.warn({ err }, "task service call failed during a chat stream");
    return custom(err.message, err.unavailable);
  }
  if (err instanceof ChatKitError) return custom(err.message, false);
  log.error({ err }, "chat stream failed");
  return {
    type: "error",
    code: "stream.error",
    message: "Something went wrong while answering. Try again.",
    allow_retry: true,
  };
}

const custom = (message: string, allowRetry: boolean): ThreadStreamEvent => ({
  type: "error",
  code: "custom",
  message,
  allow_retry: allowRetry,
});

/**
 * Starts `events` at once and runs them up to their second event (a turn's first, after `stream_options`), which
 * starts the agent; iterating the result then gives every event in order. `discard()` drops a turn never sent.
 */
export function startEarly<T>(events: AsyncGenerator<T>): AsyncIterable<T> & { discard(): void } {
  const ahead = [events.next(), events.next()];
  for (const next of ahead) next.catch(() => {});
  return {
    async *[Symbol.asyncIterator]() {
      for (const next of ahead) {
        const { done, value } = await next;
        if (done) return;
        yield value;
      }
      yield* events;
    },
    discard() {
      void events.return(undefined).catch(() => {});
    },
  };
}

/** Iterates `source` until it ends or `signal` aborts, whichever comes first; then stops the source. */
export async function* abortable<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason ?? new Error("aborted"));
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => {});
  let finished = false;
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), aborted]);
      if (next.done) {
        finished = true;
        return;
      }
      yield next.value;
    }
  } finally {
    signal.removeEventListener("abort", onAbort!);
    // A source stuck in an await ignores return() until it resumes; don't wait for it.
    if (!finished) void iterator.return?.()?.catch(() => {});
  }
}
