import { Temporal } from "temporal-polyfill";
import { z } from "zod";
import type { PendingConfirmation } from "../agent/contract.ts";
import type { WidgetComponent, WidgetRoot } from "./types.ts";

// Widgets Margin shows in the chat: the task list (ListView) and the confirmation card (Card). Their
// actions come back as `threads.custom_action` / `threads.sync_custom_action` (actions.ts).

/** The part of the MCP task view (tools' structuredContent) a widget row needs; the rest is ignored. */
export const taskViewSchema = z.object({
  id: z.string(),
  title: z.string(),
  status: z.enum(["pending", "completed", "deleted"]),
  priority: z.string().optional(),
  due: z
    .object({ at: z.string(), date: z.string(), time: z.string().nullish(), date_only: z.boolean() })
    .nullish(),
  deleted_at: z.string().nullish(),
});
export type TaskRow = z.infer<typeof taskViewSchema>;

export const ACTIONS = {
  toggle: "task.toggle",
  delete: "task.delete",
  restore: "task.restore",
  confirm: "confirmation.confirm",
  cancel: "confirmation.cancel",
} as const;

const MAX_ROWS = 50;

/** How one user reads dates: their time zone and locale (chatkit/locale.ts), e.g. `en-US-u-hc-h12`. */
export type Clock = { zone: string; locale: string };

// Building an Intl.DateTimeFormat costs far more than using one; a list formats up to 50 dues.
const formats = new Map<string, Intl.DateTimeFormat>();
function format(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale} ${JSON.stringify(options)}`;
  let f = formats.get(key);
  if (!f) {
    if (formats.size >= 500) formats.clear();
    f = new Intl.DateTimeFormat(locale, options);
    formats.set(key, f);
  }
  return f;
}

/**
 * "today 17:00" (or "today 5:00 PM": times as the panel shows them, from the same locale and options),
 * "tomorrow", "Fri", "3 Dec", "3 Dec 2027"; `overdue` when it has passed.
 */
export function dueLabel(
  due: NonNullable<TaskRow["due"]>,
  clock: Clock,
  now: Date = new Date(),
): { text: string; overdue: boolean } {
  const { zone, locale } = clock;
  const today = Temporal.Instant.fromEpochMilliseconds(now.getTime()).toZonedDateTimeISO(zone).toPlainDate();
  const date = due.date_only
    ? Temporal.PlainDate.from(due.date)
    : Temporal.Instant.from(due.at).toZonedDateTimeISO(zone).toPlainDate();
  // A date-only due's day, formatted in UTC at noon so no zone moves it.
  const noon = new Date(`${date.toString()}T12:00:00Z`);
  const days = today.until(date, { largestUnit: "days" }).days;
  const day =
    days === 0
      ? "today"
      : days === 1
        ? "tomorrow"
        : days === -1
          ? "yesterday"
          : days > 1 && days < 7
            ? format(locale, { weekday: "short", timeZone: "UTC" }).format(noon)
            : format(locale, {
                day: "numeric",
                month: "short",
                timeZone: "UTC",
                ...(date.year === today.year ? {} : { year: "numeric" }),
              }).format(noon);
  const overdue = due.date_only ? days < 0 : Date.parse(due.at) < now.getTime();
  if (due.date_only) return { text: day, overdue };
  const time = format(locale, { hour: "numeric", minute: "2-digit", timeZone: zone }).format(
    new Date(due.at),
  );
  return { text: `${day} ${time}`, overdue };
}

const action = (type: string, payload: Record<string, unknown>, streaming: boolean) => ({
  type,
  payload,
  handler: "server",
  loadingBehavior: "self",
  streaming,
});

/** One row: checkbox (sync toggle), title, due badge, delete (or undo once deleted). */
export function taskRow(task: TaskRow, clock: Clock, now?: Date): WidgetComponent {
  const deleted = task.status === "deleted" || Boolean(task.deleted_at);
  const done = task.status === "completed";
  const due = task.due ? dueLabel(task.due, clock, now) : undefined;
  const children: WidgetComponent[] = [
    {
      type: "Checkbox",
      name: `done.${task.id}`,
      defaultChecked: done,
      disabled: deleted,
      onChangeAction: action(ACTIONS.toggle, { task_id: task.id }, false),
    },
    {
      type: "Text",
      value: task.title,
      size: "sm",
      lineThrough: done || deleted,
      ...(done || deleted ? { color: "secondary" } : {}),
    },
  ];
  if (deleted) children.push({ type: "Badge", label: "Deleted", color: "secondary", size: "sm" });
  else if (due && !done)
    children.push({ type: "Badge", label: due.text, color: due.overdue ? "danger" : "info", size: "sm" });
  children.push(
    deleted
      ? {
          type: "Button",
          label: "Undo",
          variant: "ghost",
          size: "sm",
          onClickAction: action(ACTIONS.restore, { task_id: task.id }, true),
        }
      : {
          type: "Button",
          iconStart: "lucide:trash-2",
          variant: "ghost",
          size: "sm",
          uniform: true,
          onClickAction: action(ACTIONS.delete, { task_id: task.id }, true),
        },
  );
  return { type: "ListViewItem", key: task.id, id: task.id, gap: 2, align: "center", children };
}

export function taskListWidget(
  tasks: TaskRow[],
  clock: Clock,
  now?: Date,
): { widget: WidgetRoot; copyText: string } {
  const shown = tasks.slice(0, MAX_ROWS);
  const widget: WidgetRoot = {
    type: "ListView",
    limit: "auto",
    status: { text: shown.length === 1 ? "1 task" : `${shown.length} tasks`, icon: "check-circle" },
    children: shown.map((t) => taskRow(t, clock, now)),
  };
  return { widget, copyText: shown.map((t) => copyLine(t, clock, now)).join("\n") };
}

function copyLine(task: TaskRow, clock: Clock, now?: Date): string {
  const due = task.due && task.status !== "completed" ? ` (due ${dueLabel(task.due, clock, now).text})` : "";
  return `- [${task.status === "completed" ? "x" : " "}] ${task.title}${due}`;
}

/** The ids of the tasks a list widget shows: what its actions may touch. */
export function taskIdsIn(widget: WidgetRoot): string[] {
  if (widget.type !== "ListView" || !Array.isArray(widget.children)) return [];
  return widget.children.flatMap((row) => (typeof row.key === "string" ? [row.key] : []));
}

/** Whether the row of `taskId` shows the task as done (what the user saw when they clicked). */
export function rowShowsDone(widget: WidgetRoot, taskId: string): boolean | undefined {
  const row = (widget.children as WidgetComponent[] | undefined)?.find((r) => r.key === taskId);
  const box = (row?.children as WidgetComponent[] | undefined)?.find((c) => c.type === "Checkbox");
  return box ? Boolean(box.defaultChecked) : undefined;
}

/** The list widget with one row rebuilt from the task's new state. */
export function withRow(widget: WidgetRoot, task: TaskRow, clock: Clock, now?: Date): WidgetRoot {
  const rows = (widget.children as WidgetComponent[]).map((r) =>
    r.key === task.id ? taskRow(task, clock, now) : r,
  );
  return { ...widget, children: rows };
}

/** The card asking the user to confirm writes the agent held back (bulk or destructive). */
export function confirmationCard(confirmation: PendingConfirmation): {
  widget: WidgetRoot;
  copyText: string;
} {
  const payload = { confirmation_id: confirmation.id };
  return {
    widget: {
      type: "Card",
      size: "sm",
      status: { text: "Needs your confirmation", icon: "circle-question" },
      children: confirmationBody(confirmation),
      confirm: {
        label: "Confirm",
        action: { ...action(ACTIONS.confirm, payload, true), loadingBehavior: "container" },
      },
      cancel: {
        label: "Cancel",
        action: { ...action(ACTIONS.cancel, payload, true), loadingBehavior: "container" },
      },
    },
    copyText: [confirmation.prompt, ...confirmation.calls.map((c) => `- ${c.label}`)].join("\n"),
  };
}

/** The same card once answered: no buttons, the outcome in its header. */
export function resolvedConfirmationCard(
  confirmation: PendingConfirmation,
  outcome: "confirmed" | "cancelled" | "expired",
): WidgetRoot {
  const status = {
    confirmed: { text: "Confirmed", icon: "check-circle" },
    cancelled: { text: "Cancelled: nothing was changed", icon: "empty-circle" },
    expired: { text: "Not confirmed: nothing was changed", icon: "empty-circle" },
  }[outcome];
  return { type: "Card", size: "sm", status, children: confirmationBody(confirmation) };
}

function confirmationBody(confirmation: PendingConfirmation): WidgetComponent[] {
  return [
    { type: "Text", value: confirmation.prompt, weight: "semibold" },
    ...confirmation.calls.slice(0, 20).map((c) => ({ type: "Text", value: `• ${c.label}`, size: "sm" })),
    ...(confirmation.calls.length > 20
      ? [{ type: "Caption", value: `and ${confirmation.calls.length - 20} more` }]
      : []),
  ];
}
