import { browser } from "wxt/browser";
import type { Task } from "../api/schemas.ts";

export const REMINDER_NOTIFICATION_PREFIX = "reminder:";
export const REMINDER_BUTTONS = ["Complete", "Snooze 1 h"] as const;
const supportsButtons = import.meta.env.BROWSER !== "firefox";

function dueText(task: Task): string {
  if (!task.due) return "Due now";
  const at = new Date(task.due.at);
  const time = new Intl.DateTimeFormat(undefined, {
    hour: "numeric",
    minute: "2-digit",
    timeZone: task.due.tz,
  }).format(at);
  return task.due.repeat ? `Due ${time} · ${task.due.repeat}` : `Due ${time}`;
}

/** A reminder: the task's title, when it is due, and Complete / Snooze 1 h. Click opens the panel on it. */
export async function showReminder(task: Task): Promise<void> {
  await browser.notifications.create(`${REMINDER_NOTIFICATION_PREFIX}${task.id}`, {
    type: "basic",
    iconUrl: browser.runtime.getURL("/icon/128.png"),
    title: task.title,
    message: dueText(task),
    priority: 2,
    ...(supportsButtons
      ? { buttons: REMINDER_BUTTONS.map((title) => ({ title })), requireInteraction: true }
      : {}),
  });
}

export const taskIdOfReminderNotification = (id: string) =>
  id.startsWith(REMINDER_NOTIFICATION_PREFIX) ? id.slice(REMINDER_NOTIFICATION_PREFIX.length) : null;
