import { browser } from "wxt/browser";
import type { Task } from "../api/schemas.ts";

export const CAPTURE_NOTIFICATION_PREFIX = "capture:";
const supportsButtons = import.meta.env.BROWSER !== "firefox";

/** "Saved to Margin" with an Undo button (Chrome); the id carries the task so Undo can delete it. */
export async function notifyCaptured(task: Task): Promise<void> {
  await browser.notifications.create(`${CAPTURE_NOTIFICATION_PREFIX}${task.id}`, {
    type: "basic",
    iconUrl: browser.runtime.getURL("/icon/128.png"),
    title: "Saved to Margin",
    message: task.title,
    ...(supportsButtons ? { buttons: [{ title: "Undo" }] } : {}),
  });
}

/** The capture could not be sent yet; it is kept and retried. */
export async function notifyQueued(title: string, reason: string): Promise<void> {
  await browser.notifications.create(`queued:${crypto.randomUUID()}`, {
    type: "basic",
    iconUrl: browser.runtime.getURL("/icon/128.png"),
    title: "Kept for later",
    message: `${title}\n${reason}`,
  });
}

export const taskIdOfCaptureNotification = (id: string) =>
  id.startsWith(CAPTURE_NOTIFICATION_PREFIX) ? id.slice(CAPTURE_NOTIFICATION_PREFIX.length) : null;
