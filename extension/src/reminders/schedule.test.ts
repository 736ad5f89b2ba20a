import { beforeEach, describe, expect, it } from "vitest";
import { browser } from "wxt/browser";
import { fakeBrowser } from "wxt/testing/fake-browser";
import { makeTask, timedDue } from "../test-support/tasks.ts";
import { reminderAlarmName, snoozeReminder, syncReminderAlarms, takeDueReminder } from "./schedule.ts";

const now = Date.parse("2026-11-28T15:00:00Z");
const alarmTimes = async () =>
  Object.fromEntries((await browser.alarms.getAll()).map((a) => [a.name, a.scheduledTime]));

describe("reminder scheduling", () => {
  beforeEach(() => fakeBrowser.reset());

  it("sets one alarm per open, timed task due ahead; none for date-only, done or deleted tasks", async () => {
    const timed = makeTask({ due: timedDue("2026-11-28T17:00:00.000Z") });
    const dateOnly = makeTask({
      due: { ...timedDue("2026-11-29T00:00:00.000Z")!, date_only: true, time: null },
    });
    const done = makeTask({ status: "completed", due: timedDue("2026-11-28T18:00:00.000Z") });
    const deleted = makeTask({
      deleted_at: "2026-11-28T12:00:00Z",
      due: timedDue("2026-11-28T18:00:00.000Z"),
    });
    const longPast = makeTask({ due: timedDue("2026-11-27T09:00:00.000Z") });
    await syncReminderAlarms([timed, dateOnly, done, deleted, longPast], now);
    expect(await alarmTimes()).toEqual({ [reminderAlarmName(timed.id)]: Date.parse("2026-11-28T17:00:00Z") });
  });

  it("follows changes: a moved due moves its alarm; completing or deleting clears it", async () => {
    const task = makeTask({ due: timedDue("2026-11-28T17:00:00.000Z") });
    await syncReminderAlarms([task], now);
    const moved = { ...task, due: timedDue("2026-11-28T19:30:00.000Z") };
    await syncReminderAlarms([moved], now);
    expect(await alarmTimes()).toEqual({ [reminderAlarmName(task.id)]: Date.parse("2026-11-28T19:30:00Z") });
    await syncReminderAlarms([{ ...moved, status: "completed" }], now);
    expect(await alarmTimes()).toEqual({});
    await syncReminderAlarms([moved], now);
    await syncReminderAlarms([], now); // deleted elsewhere: gone from the open tasks
    expect(await alarmTimes()).toEqual({});
  });

  it("fires only if the task is still open and due, and only once", async () => {
    const task = makeTask({ due: timedDue("2026-11-28T15:00:00.000Z") });
    await syncReminderAlarms([task], now - 5000);
    expect(await takeDueReminder(task.id, [task], now)).toEqual(task);
    expect(await takeDueReminder(task.id, [task], now)).toBeNull();
    await syncReminderAlarms([task], now);
    expect(await alarmTimes()).toEqual({});
  });

  it("does not fire for a task completed, deleted or rescheduled since the alarm was set", async () => {
    const task = makeTask({ due: timedDue("2026-11-28T15:00:00.000Z") });
    await syncReminderAlarms([task], now - 60_000);
    expect(await takeDueReminder(task.id, [{ ...task, status: "completed" }], now)).toBeNull();
    expect(await takeDueReminder(task.id, [], now)).toBeNull();
    expect(
      await takeDueReminder(task.id, [{ ...task, due: timedDue("2026-11-28T18:00:00.000Z") }], now),
    ).toBeNull();
  });

  it("snooze reminds again an hour later, and survives a re-sync", async () => {
    const task = makeTask({ due: timedDue("2026-11-28T15:00:00.000Z") });
    await syncReminderAlarms([task], now - 1000);
    await takeDueReminder(task.id, [task], now);
    const at = await snoozeReminder(task.id, now);
    expect(at).toBe(now + 3_600_000);
    await syncReminderAlarms([task], now + 1000);
    expect(await alarmTimes()).toEqual({ [reminderAlarmName(task.id)]: now + 3_600_000 });
    expect(await takeDueReminder(task.id, [task], now + 3_600_000)).toEqual(task);
  });
});
