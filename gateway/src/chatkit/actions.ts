import { z } from "zod";
import type { ChatAgent } from "../agent/contract.ts";
import type { TaskServiceClient } from "../task-service/client.ts";
import { ChatKitError } from "./errors.ts";
import type { HiddenNote } from "./history.ts";
import { generateId } from "./store.ts";
import { clockOf, createTranslator, pendingCard, resolveCard, type TurnContext, tasksIn } from "./turn.ts";
import type { Action, ThreadMetadata, ThreadStreamEvent, WidgetItem } from "./types.ts";
import { ACTIONS, rowShowsDone, taskIdsIn, withRow } from "./widgets.ts";

export type TaskCaller = Pick<TaskServiceClient, "call">;

const taskPayload = z.object({ task_id: z.string().min(1).max(100) });
const confirmationPayload = z.object({ confirmation_id: z.string().min(1).max(200) });

const TASK_ACTIONS: Record<
  string,
  { tool: (shownDone: boolean) => string; note: (title: string) => string }
> = {
  [ACTIONS.toggle]: {
    tool: (shownDone) => (shownDone ? "reopen_task" : "complete_task"),
    note: (title) => `The user ticked or unticked "${title}" in the task list.`,
  },
  [ACTIONS.delete]: {
    tool: () => "delete_task",
    note: (title) => `The user deleted "${title}" from the task list.`,
  },
  [ACTIONS.restore]: {
    tool: () => "restore_task",
    note: (title) => `The user restored "${title}" from the task list.`,
  },
};

function refuse(message: string): never {
  throw new ChatKitError(400, "invalid_action", message);
}

/**
 * A task-list action: the payload is untrusted, so the task must be a row of the widget the action came from
 * (a widget of this user's thread); the change goes through MCP as this user; the row is rebuilt from the
 * task's new state. Returns the widget item to persist and the note the model reads next turn.
 */
async function taskAction(
  ctx: TurnContext,
  tasks: TaskCaller,
  action: Action,
  sender: WidgetItem | undefined,
): Promise<{ item: WidgetItem; note: HiddenNote; taskId: string }> {
  const spec = TASK_ACTIONS[action.type]!;
  const payload = taskPayload.safeParse(action.payload);
  if (!payload.success) refuse("This action needs the task it is about.");
  const taskId = payload.data.task_id;
  if (!sender || !taskIdsIn(sender.widget).includes(taskId)) {
    throw new ChatKitError(404, "not_found", "No such task in this list.");
  }
  const result = await tasks.call(ctx.user, spec.tool(rowShowsDone(sender.widget, taskId) ?? false), {
    task_id: taskId,
  });
  const text = result.content.flatMap((c) => (c.type === "text" ? [c.text] : [])).join(" ");
  if (result.isError)
    throw new ChatKitError(409, "task_action_failed", text || "That task could not be changed.");
  const [task] = tasksIn(result.structuredContent);
  if (!task) throw new ChatKitError(502, "task_service_error", "The task service answered without the task.");
  return {
    item: { ...sender, widget: withRow(sender.widget, task, clockOf(ctx)) },
    note: { kind: "note", text: spec.note(task.title) },
    taskId,
  };
}

export function createActionHandlers(agent: ChatAgent, tasks: TaskCaller) {
  return {
    /** `threads.custom_action`: the streamed answer to a widget button. */
    async *action(
      ctx: TurnContext,
      thread: ThreadMetadata,
      action: Action,
      sender: WidgetItem | undefined,
    ): AsyncGenerator<ThreadStreamEvent> {
      if (action.type in TASK_ACTIONS) {
        const { item, note, taskId } = await taskAction(ctx, tasks, action, sender);
        yield { type: "thread.item.replaced", item };
        yield { type: "client_effect", name: "tasks.changed", data: { ids: [taskId] } };
        yield hiddenNote(thread.id, note);
        return;
      }
      if (action.type === ACTIONS.confirm || action.type === ACTIONS.cancel) {
        const payload = confirmationPayload.safeParse(action.payload);
        const pending = pendingCard(thread);
        if (
          !payload.success ||
          !pending ||
          pending.confirmation.id !== payload.data.confirmation_id ||
          pending.card_item_id !== sender?.id
        ) {
          throw new ChatKitError(
            409,
            "not_pending",
            "This confirmation is no longer pending: nothing was changed.",
          );
        }
        const confirmed = action.type === ACTIONS.confirm;
        yield* resolveCard(ctx, thread, pending, confirmed ? "confirmed" : "cancelled");
        if (confirmed) {
          const translator = createTranslator(ctx, thread);
          yield* translator.run(
            agent.runConfirmed({ user: ctx.user, confirmation: pending.confirmation, signal: ctx.signal }),
          );
        }
        return;
      }
      refuse(`Unknown action "${action.type}".`);
    },

    /** `threads.sync_custom_action`: a task-list change answered with the updated widget, persisted here. */
    async syncAction(
      ctx: TurnContext,
      thread: ThreadMetadata,
      action: Action,
      sender: WidgetItem | undefined,
    ): Promise<{ updated_item?: WidgetItem }> {
      if (!(action.type in TASK_ACTIONS)) refuse(`Action "${action.type}" cannot run without streaming.`);
      const { item, note } = await taskAction(ctx, tasks, action, sender);
      await ctx.store.saveItem(thread.id, item);
      const hidden = hiddenNote(thread.id, note);
      if (hidden.type === "thread.item.done") await ctx.store.addThreadItem(thread.id, hidden.item);
      return { updated_item: item };
    },
  };
}

const hiddenNote = (threadId: string, note: HiddenNote): ThreadStreamEvent => ({
  type: "thread.item.done",
  item: {
    id: generateId("hidden_context"),
    thread_id: threadId,
    created_at: new Date().toISOString(),
    type: "hidden_context_item",
    content: note,
  },
});
