import { browser } from "wxt/browser";
import { storage } from "wxt/utils/storage";
import type { Task } from "../api/schemas.ts";

export const REMINDER_ALARM_PREFIX = "reminder:";
export const SNOOZE_MS = 60 * 60_000;
/** A reminder missed by less than this (browser asleep, alarm late) still fires; older ones don't. */
const LATE_GRACE_MS = 10 * 60_000;

/** Alarms set so far, task id → when (epoch ms); kept so a changed due replaces the old alarm. */
export const remindersItem = storage.defineItem<Record<string, number>>("local:reminders", {
  fallback: {},
  version: 1,
});
/** Snoozed reminders, task id → when to remind again. */
export const snoozesItem = storage.defineItem<Record<string, number>>("local:snoozes", {
  fallback: {},
  version: 1,
});
/** Reminders already shown, task id → the time they were for, so a re-sync does not show them twice. */
export const firedItem = storage.defineItem<Record<string, number>>("local:reminders-fired", {
  fallback: {},
  version: 1,
});

export const reminderAlarmName = (taskId: string) => `${REMINDER_ALARM_PREFIX}${taskId}`;
export const taskIdOfAlarm = (name: string) =>
  name.startsWith(REMINDER_ALARM_PREFIX) ? name.slice(REMINDER_ALARM_PREFIX.length) : null;

/** When each open, timed task should remind: its due time (if not long past), or its snooze. */
export function plannedReminders(
  tasks: Task[],
  state: { snoozes: Record<string, number>; fired: Record<string, number> },
  now: number,
): Record<string, number> {
  const plan: Record<string, number> = {};
  for (const t of tasks) {
    if (t.status !== "pending" || t.deleted_at) continue;
    const snoozed = state.snoozes[t.id];
    const at = snoozed ?? (t.due && !t.due.date_only ? Date.parse(t.due.at) : undefined);
    if (at === undefined || at <= now - LATE_GRACE_MS || state.fired[t.id] === at) continue;
    plan[t.id] = at;
  }
  return plan;
}

/**
 * Makes the alarms match the tasks: new and moved dues get an alarm, completed, deleted and undated
 * tasks lose theirs. Only alarms that changed are touched.
 */
export async function syncReminderAlarms(tasks: Task[], now: number): Promise<Record<string, number>> {
  const snoozes = await snoozesItem.getValue();
  const fired = await firedItem.getValue();
  const plan = plannedReminders(tasks, { snoozes, fired }, now);
  const current = await remindersItem.getValue();
  for (const id of Object.keys(current)) {
    if (plan[id] !== current[id]) await browser.alarms.clear(reminderAlarmName(id));
  }
  for (const [id, when] of Object.entries(plan)) {
    if (current[id] !== when) browser.alarms.create(reminderAlarmName(id), { when: Math.max(when, now + 1) });
  }
  // Forget snoozes and shown reminders of tasks that are gone or done.
  const open = new Set(tasks.filter((t) => t.status === "pending" && !t.deleted_at).map((t) => t.id));
  const keep = (r: Record<string, number>) =>
    Object.fromEntries(Object.entries(r).filter(([id]) => open.has(id)));
  if (Object.keys(keep(snoozes)).length !== Object.keys(snoozes).length)
    await snoozesItem.setValue(keep(snoozes));
  if (Object.keys(keep(fired)).length !== Object.keys(fired).length) await firedItem.setValue(keep(fired));
  await remindersItem.setValue(plan);
  return plan;
}

/**
 * An alarm went off: answers the task to remind about if, by the freshest tasks known, it is still
 * open and due now (not completed, deleted or moved later), and records it as shown.
 */
export async function takeDueReminder(taskId: string, tasks: Task[], now: number): Promise<Task | null> {
  const snoozes = await snoozesItem.getValue();
  const fired = await firedItem.getValue();
  const at = plannedReminders(tasks, { snoozes, fired }, now)[taskId];
  const task = tasks.find((t) => t.id === taskId);
  if (at === undefined || at > now + 1000 || !task) return null;
  await firedItem.setValue({ ...fired, [taskId]: at });
  const { [taskId]: _, ...rest } = snoozes;
  if (taskId in snoozes) await snoozesItem.setValue(rest);
  return task;
}

/** Remind again in an hour. */
export async function snoozeReminder(taskId: string, now: number): Promise<number> {
  const when = now + SNOOZE_MS;
  await snoozesItem.setValue({ ...(await snoozesItem.getValue()), [taskId]: when });
  await remindersItem.setValue({ ...(await remindersItem.getValue()), [taskId]: when });
  browser.alarms.create(reminderAlarmName(taskId), { when });
  return when;
}
