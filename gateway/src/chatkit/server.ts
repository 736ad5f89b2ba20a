import type { ChatAgent } from "../agent/contract.ts";
import { createActionHandlers, type TaskCaller } from "./actions.ts";
import { ChatKitError } from "./errors.ts";
import { HISTORY_ITEMS } from "./history.ts";
import { clampLimit, DEFAULT_PAGE_SIZE, generateId } from "./store.ts";
import { processEvents, startEarly, toThreadResponse } from "./stream.ts";
import { respond, type TurnContext } from "./turn.ts";
import {
  type ChatKitRequest,
  isStreamingRequest,
  type NonStreamingRequest,
  type StreamingRequest,
  type ThreadItem,
  type ThreadMetadata,
  type ThreadStreamEvent,
  type UserMessageInput,
  type UserMessageItem,
  type WidgetItem,
} from "./types.ts";

export type ChatKitResult = { json: unknown } | { stream: AsyncIterable<ThreadStreamEvent> };

const MAX_TITLE = 200;

/**
 * The ChatKit server (`server.py:ChatKitServer.process`): one parsed request in; JSON or an event stream out.
 * Everything that can refuse a streaming request (unknown thread, wrong item) is checked before the stream
 * starts, so it answers with an HTTP status instead of a half-open stream.
 */
export function createChatKitServer(deps: { agent: ChatAgent; tasks: TaskCaller }) {
  const actions = createActionHandlers(deps.agent, deps.tasks);

  async function senderOf(ctx: TurnContext, threadId: string, itemId: string | null | undefined) {
    return itemId ? ctx.store.loadItem(threadId, itemId) : undefined;
  }

  function userMessage(threadId: string, input: UserMessageInput): UserMessageItem {
    if (input.attachments.length > 0) {
      throw new ChatKitError(400, "attachments_unsupported", "Margin's chat does not take attachments.");
    }
    return {
      id: generateId("message"),
      thread_id: threadId,
      created_at: new Date().toISOString(),
      type: "user_message",
      content: input.content,
      attachments: [],
      quoted_text: input.quoted_text,
      inference_options: input.inference_options,
    };
  }

  async function streaming(
    ctx: TurnContext,
    req: StreamingRequest,
  ): Promise<AsyncIterable<ThreadStreamEvent>> {
    const { store } = ctx;
    const turn = (thread: ThreadMetadata, input: UserMessageItem | null) => () =>
      respond(ctx, deps.agent, thread, input);
    switch (req.type) {
      case "threads.create": {
        const thread: ThreadMetadata = {
          id: generateId("thread"),
          created_at: new Date().toISOString(),
          status: { type: "active" },
          metadata: {},
        };
        const message = userMessage(thread.id, req.params.input);
        // What the user typed is stored before any event is sent (the client takes the message's event as
        // "stored" and retries accordingly). The turn starts meanwhile, so its first model call overlaps the
        // commit; its tools and its own writes wait for it (`stored`).
        const stored = store.createThread(thread, message);
        const stop = new AbortController();
        const turnCtx = { ...ctx, signal: AbortSignal.any([ctx.signal, stop.signal]), stored };
        const turn = startEarly(
          processEvents(turnCtx, thread, () =>
            respond(turnCtx, deps.agent, thread, message, { recent: [message] }),
          ),
        );
        try {
          await stored;
        } catch (err) {
          stop.abort(err);
          turn.discard();
          throw err;
        }
        return (async function* () {
          yield { type: "thread.created", thread: toThreadResponse(thread) } as const;
          yield { type: "thread.item.done", item: message } as const;
          yield* turn;
        })();
      }
      case "threads.add_user_message": {
        // An unknown thread is "not found" before a message with attachments is refused, as ever.
        if (req.params.input.attachments.length > 0) await store.loadThread(req.params.thread_id);
        const message = userMessage(req.params.thread_id, req.params.input);
        const { thread, earlier } = await store.addUserMessage(
          req.params.thread_id,
          message,
          HISTORY_ITEMS - 1,
        );
        return (async function* () {
          yield { type: "thread.item.done", item: message } as const;
          yield* processEvents(ctx, thread, () =>
            respond(ctx, deps.agent, thread, message, { recent: [...earlier, message] }),
          );
        })();
      }
      case "threads.add_client_tool_output": {
        const thread = await store.loadThread(req.params.thread_id);
        const [last] = (await store.loadThreadItems(thread.id, { limit: 1, order: "desc" })).data;
        if (last?.type !== "client_tool_call" || last.status !== "pending") {
          throw new ChatKitError(400, "no_pending_tool_call", "The thread has no pending client tool call.");
        }
        await store.saveItem(thread.id, { ...last, output: req.params.result, status: "completed" });
        return processEvents(ctx, thread, turn(thread, null));
      }
      case "threads.add_structured_input": {
        const thread = await store.loadThread(req.params.thread_id);
        const item = await store.loadItem(thread.id, req.params.item_id);
        if (item.type !== "structured_input" || item.status !== "pending") {
          throw new ChatKitError(400, "not_pending", "That item is not a pending structured input.");
        }
        const answered = applyAnswers(item, req.params.input);
        return processEvents(ctx, thread, async function* () {
          yield { type: "thread.item.replaced", item: answered } as const;
          yield* respond(ctx, deps.agent, thread, null);
        });
      }
      case "threads.retry_after_item": {
        const thread = await store.loadThread(req.params.thread_id);
        const item = await store.loadItem(thread.id, req.params.item_id);
        if (item.type !== "user_message") {
          throw new ChatKitError(400, "not_a_user_message", "Only a user message can be retried.");
        }
        // Newer items go without removal events: the client drops them itself (server.py).
        await store.deleteItemsAfter(thread.id, item.id);
        return processEvents(ctx, thread, turn(thread, item));
      }
      case "threads.custom_action": {
        const thread = await store.loadThread(req.params.thread_id);
        const sender = await senderOf(ctx, thread.id, req.params.item_id);
        if (sender && sender.type !== "widget") {
          return (async function* () {
            yield {
              type: "error",
              code: "stream.error",
              message: "Only widgets send actions.",
              allow_retry: false,
            } as const;
          })();
        }
        return processEvents(ctx, thread, () => actions.action(ctx, thread, req.params.action, sender));
      }
    }
  }

  async function nonStreaming(ctx: TurnContext, req: NonStreamingRequest): Promise<unknown> {
    const { store } = ctx;
    switch (req.type) {
      case "threads.get_by_id": {
        const thread = await store.loadThread(req.params.thread_id);
        const items = await store.loadThreadItems(thread.id, {
          limit: DEFAULT_PAGE_SIZE,
          order: "asc",
          visibleOnly: true,
        });
        return toThreadResponse(thread, items.data, items.has_more);
      }
      case "threads.list": {
        const page = await store.loadThreads(
          clampLimit(req.params.limit),
          req.params.after,
          req.params.order,
        );
        return { ...page, data: page.data.map((t) => toThreadResponse(t)) };
      }
      case "items.list": {
        await store.loadThread(req.params.thread_id);
        return store.loadThreadItems(req.params.thread_id, {
          after: req.params.after,
          limit: clampLimit(req.params.limit),
          order: req.params.order,
          visibleOnly: true,
        });
      }
      case "items.feedback":
        await store.setFeedback(req.params.thread_id, req.params.item_ids, req.params.kind);
        return {};
      case "threads.update": {
        const title = req.params.title.replace(/\s+/g, " ").trim();
        if (!title) throw new ChatKitError(400, "invalid_request", "A thread title must not be empty.");
        const thread = await store.loadThread(req.params.thread_id);
        thread.title = title.slice(0, MAX_TITLE);
        await store.saveThread(thread, { durable: true });
        return toThreadResponse(thread);
      }
      case "threads.delete":
        await store.deleteThread(req.params.thread_id);
        return {};
      case "threads.sync_custom_action": {
        const thread = await store.loadThread(req.params.thread_id);
        const sender = await senderOf(ctx, thread.id, req.params.item_id);
        if (sender && sender.type !== "widget") {
          throw new ChatKitError(400, "invalid_action", "Only widgets send actions.");
        }
        return actions.syncAction(ctx, thread, req.params.action, sender as WidgetItem | undefined);
      }
      case "attachments.create":
      case "attachments.delete":
        throw new ChatKitError(501, "attachments_unsupported", "Margin's chat does not take attachments.");
      case "input.transcribe":
        throw new ChatKitError(501, "dictation_unsupported", "Dictation is not available on this server.");
    }
  }

  return {
    async process(ctx: TurnContext, req: ChatKitRequest): Promise<ChatKitResult> {
      return isStreamingRequest(req)
        ? { stream: await streaming(ctx, req) }
        : { json: await nonStreaming(ctx, req) };
    },
  };
}

export type ChatKitServer = ReturnType<typeof createChatKitServer>;

/** `_apply_structured_input_submission`: unknown ids ignored, single choice keeps one value, missing = skipped. */
function applyAnswers(
  item: Extract<ThreadItem, { type: "structured_input" }>,
  submission: {
    status: "answered" | "skipped";
    answers: Record<string, { values: string[]; skipped: boolean }>;
  },
): ThreadItem {
  const inputs = item.inputs.map((input) => {
    const answer = submission.answers[input.id];
    if (submission.status === "skipped" || !answer || answer.skipped || answer.values.length === 0) {
      return { ...input, answer: { values: [], skipped: true } };
    }
    const values =
      input.type === "multiple_choice" && !input.multiple ? answer.values.slice(0, 1) : answer.values;
    return { ...input, answer: { values, skipped: false } };
  });
  return { ...item, inputs, status: submission.status };
}
