import { browser } from "wxt/browser";
import { type Connection, tasksApi } from "../api/client.ts";
import { describeError, isSessionExpired } from "../api/errors.ts";
import type { Task } from "../api/schemas.ts";
import { currentConnection, markSessionExpired, sessionItem } from "../auth/session.ts";
import { notifyCaptured, notifyQueued, taskIdOfCaptureNotification } from "../capture/confirm.ts";
import { taskFromPage } from "../capture/format.ts";
import { type CaptureRequest, captureForCommand, captureForMenu, registerMenus } from "../capture/menus.ts";
import { readPage } from "../capture/page.ts";
import { onMessage, sendMessage } from "../messaging/protocol.ts";
import {
  type CaptureOrigin,
  createOutbox,
  type Outbox,
  outboxItem,
  SignedOutError,
} from "../outbox/outbox.ts";
import { showReminder, taskIdOfReminderNotification } from "../reminders/notify.ts";
import { snoozeReminder, syncReminderAlarms, takeDueReminder, taskIdOfAlarm } from "../reminders/schedule.ts";
import { flashBadge, showDueCount } from "../tasks/badge.ts";
import { tasksCacheItem } from "../tasks/cache.ts";
import { openPanel, wireToolbarButton } from "./open-panel.ts";

export const OUTBOX_ALARM = "outbox-retry";
export const SYNC_ALARM = "tasks-sync";
const SYNC_MINUTES = 5;

/** Calls the gateway as the signed-in user; a refused token marks the session expired. */
async function withConnection<T>(use: (conn: Connection) => Promise<T>): Promise<T> {
  const conn = await currentConnection();
  if (!conn) throw new SignedOutError("Sign in to Margin first.");
  try {
    return await use(conn);
  } catch (err) {
    if (isSessionExpired(err)) await markSessionExpired(conn.token);
    throw err;
  }
}

/** Fetches the open tasks into the cache the badge and reminders follow. */
export async function refreshTasks(): Promise<Task[] | null> {
  const session = await sessionItem.getValue();
  if (!session || session.expired) return null;
  try {
    const tasks = await withConnection((c) => tasksApi(c).listAll({ status: "pending" }));
    await tasksCacheItem.setValue({ tasks, syncedAt: Date.now(), userId: session.user.id });
    return tasks;
  } catch {
    return (await tasksCacheItem.getValue())?.tasks ?? null;
  }
}

/** Badge and reminder alarms follow the cached tasks (or are cleared when signed out). */
export async function followTasks(): Promise<void> {
  const session = await sessionItem.getValue();
  const cache = await tasksCacheItem.getValue();
  const tasks = session && cache?.userId === session.user.id ? cache.tasks : null;
  const now = new Date();
  await showDueCount(session?.expired ? null : tasks, now, session?.user.timezone ?? "UTC");
  await syncReminderAlarms(session?.expired ? [] : (tasks ?? []), now.getTime());
}

/** Everything the background does, wired to the browser's events. Returns the outbox (for tests). */
export function startBackground(): Outbox {
  const outbox = createOutbox({
    send: (entry) => withConnection((c) => tasksApi(c).create(entry.task, entry.id)),
    onDelivered: (entry, task) => confirmCapture(entry.id, entry.origin, task),
    scheduleWake: (at) => {
      if (at === null) void browser.alarms.clear(OUTBOX_ALARM);
      else browser.alarms.create(OUTBOX_ALARM, { when: Math.max(at, Date.now() + 500) });
    },
  });

  async function confirmCapture(entryId: string, origin: CaptureOrigin, task: Task) {
    await flashBadge("saved", followTasks).catch(() => {});
    if (origin === "panel") await sendMessage("captureDelivered", { entryId, task }).catch(() => {});
    else await notifyCaptured(task).catch(() => {});
  }

  async function capture(
    request: CaptureRequest,
    tab: Parameters<typeof readPage>[0] | undefined,
    origin: CaptureOrigin,
  ) {
    if (!tab?.url) return;
    const page = await readPage(tab);
    if (request.kind === "selection" && request.selectionText) page.selection = request.selectionText;
    const entry = await outbox.enqueue(
      taskFromPage(page, { includeSelection: request.kind === "selection" || !!page.selection }),
      origin,
    );
    await outbox.idle();
    const stored = (await outboxItem.getValue()).find((e) => e.id === entry.id);
    if (stored) {
      await flashBadge("queued", followTasks).catch(() => {});
      await notifyQueued(entry.task.title, stored.rejection?.message ?? stored.lastError ?? "").catch(
        () => {},
      );
    }
  }

  wireToolbarButton();
  browser.runtime.onInstalled.addListener(() => {
    void registerMenus();
    void refreshTasks();
  });
  browser.runtime.onStartup.addListener(() => {
    void refreshTasks();
    void outbox.retryAll();
  });
  browser.alarms.create(SYNC_ALARM, { periodInMinutes: SYNC_MINUTES });

  browser.contextMenus.onClicked.addListener((info, tab) => {
    const request = captureForMenu(info);
    if (request) void capture(request, tab, "menu");
  });
  browser.commands.onCommand.addListener((command, tab) => {
    const request = captureForCommand(command);
    if (!request) return;
    void (async () => {
      const target = tab?.url
        ? tab
        : (await browser.tabs.query({ active: true, lastFocusedWindow: true }))[0];
      await capture(request, target, "command");
    })();
  });

  browser.alarms.onAlarm.addListener((alarm) => {
    if (alarm.name === OUTBOX_ALARM) void outbox.flush();
    else if (alarm.name === SYNC_ALARM) void refreshTasks().then(followTasks);
    else {
      const taskId = taskIdOfAlarm(alarm.name);
      if (taskId) void fireReminder(taskId);
    }
  });

  async function fireReminder(taskId: string) {
    // Check with the server first: a task completed, deleted or moved elsewhere must not ring.
    const tasks = (await refreshTasks()) ?? [];
    const task = await takeDueReminder(taskId, tasks, Date.now());
    if (task) await showReminder(task);
  }

  browser.notifications.onClicked.addListener((id) => {
    const taskId = taskIdOfReminderNotification(id) ?? taskIdOfCaptureNotification(id);
    if (!taskId) return;
    void browser.notifications.clear(id);
    void openPanel(undefined, taskId);
  });
  browser.notifications.onButtonClicked?.addListener((id, index) => {
    void browser.notifications.clear(id);
    const reminderTask = taskIdOfReminderNotification(id);
    if (reminderTask && index === 0)
      void withConnection((c) => tasksApi(c).complete(reminderTask)).then(refreshTasks, () => {});
    if (reminderTask && index === 1) void snoozeReminder(reminderTask, Date.now());
    const captured = taskIdOfCaptureNotification(id);
    if (captured && index === 0)
      void withConnection((c) => tasksApi(c).remove(captured)).then(refreshTasks, () => {});
  });

  onMessage("capture", async ({ page }) => ({ id: (await outbox.enqueue(taskFromPage(page), "panel")).id }));
  onMessage("addTask", async ({ task }) => ({ id: (await outbox.enqueue(task, "panel")).id }));
  onMessage("outboxEdit", async ({ id, task }) => {
    await outbox.edit(id, task);
    return null;
  });
  onMessage("outboxDiscard", async ({ id }) => {
    await outbox.discard(id);
    return null;
  });
  onMessage("outboxRetry", async () => {
    await outbox.retryAll();
    return null;
  });
  onMessage("sessionChanged", async () => {
    await refreshTasks();
    await followTasks();
    void outbox.retryAll();
    return null;
  });

  tasksCacheItem.watch(() => void followTasks());
  sessionItem.watch(() => void followTasks());
  void followTasks().catch((err) => console.warn("Margin: badge/reminders:", describeError(err)));
  void outbox.flush();
  return outbox;
}
