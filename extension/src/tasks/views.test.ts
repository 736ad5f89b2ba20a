import { describe, expect, it } from "vitest";
import { makeTask, timedDue } from "../test-support/tasks.ts";
import { applyTask, countDueByToday, isOverdue, selectTasks } from "./views.ts";

const now = new Date("2026-11-28T15:00:00Z");
const dateOnly = (date: string) => ({
  at: `${date}T00:00:00.000Z`,
  date,
  time: null,
  date_only: true,
  tz: "UTC",
  phrase: null,
  repeat: null,
  rrule: null,
});

describe("task views", () => {
  const overdue = makeTask({ title: "overdue", due: timedDue("2026-11-28T09:00:00.000Z") });
  const later = makeTask({ title: "later today", due: timedDue("2026-11-28T20:00:00.000Z") });
  const yesterday = makeTask({ title: "yesterday", due: dateOnly("2026-11-27") });
  const tomorrow = makeTask({ title: "tomorrow", due: dateOnly("2026-11-29") });
  const undated = makeTask({ title: "someday" });
  const done = makeTask({ title: "done", status: "completed", completed_at: "2026-11-28T12:00:00.000Z" });
  const deleted = makeTask({
    title: "gone",
    deleted_at: "2026-11-28T12:00:00.000Z",
    due: timedDue("2026-11-28T10:00:00.000Z"),
  });
  const all = [undated, tomorrow, later, overdue, yesterday, done, deleted];
  const titles = (ts: { title: string }[]) => ts.map((t) => t.title);

  it("Today holds what is due today or earlier, soonest first; Upcoming the rest with a date", () => {
    expect(titles(selectTasks(all, "today", { now, tz: "UTC" }))).toEqual([
      "yesterday",
      "overdue",
      "later today",
    ]);
    expect(titles(selectTasks(all, "upcoming", { now, tz: "UTC" }))).toEqual(["tomorrow"]);
    expect(titles(selectTasks(all, "all", { now, tz: "UTC" }))).toEqual([
      "yesterday",
      "overdue",
      "later today",
      "tomorrow",
      "someday",
    ]);
    expect(titles(selectTasks(all, "done", { now, tz: "UTC" }))).toEqual(["done"]);
  });

  it("reads 'today' in the user's zone", () => {
    // 15:00 UTC is already Nov 29 in Tokyo: "tomorrow" (Nov 29) is today there.
    expect(titles(selectTasks(all, "today", { now, tz: "Asia/Tokyo" }))).toContain("tomorrow");
  });

  it("marks overdue by time for timed tasks and by day for date-only ones", () => {
    expect(isOverdue(overdue, now, "UTC")).toBe(true);
    expect(isOverdue(later, now, "UTC")).toBe(false);
    expect(isOverdue(yesterday, now, "UTC")).toBe(true);
    expect(isOverdue(makeTask({ due: dateOnly("2026-11-28") }), now, "UTC")).toBe(false);
  });

  it("searches title, notes and source", () => {
    const withNotes = makeTask({ title: "x", notes: "Call the Plumber" });
    const withSource = makeTask({
      title: "y",
      source: { url: "https://docs.example/guide", title: "Guide", excerpt: null },
    });
    expect(
      titles(selectTasks([withNotes, withSource, undated], "all", { now, tz: "UTC", query: "plumber" })),
    ).toEqual(["x"]);
    expect(
      titles(selectTasks([withNotes, withSource, undated], "all", { now, tz: "UTC", query: "docs.example" })),
    ).toEqual(["y"]);
  });

  it("counts the badge: open tasks due by the end of today", () => {
    expect(countDueByToday(all, now, "UTC")).toBe(3);
  });

  it("never lets an older copy of a task replace a newer one", () => {
    const map = new Map();
    const v2 = { ...later, title: "renamed", updated_at: "2026-11-28T11:00:00.000Z" };
    expect(applyTask(map, v2)).toBe(true);
    expect(applyTask(map, later)).toBe(false);
    expect(map.get(later.id).title).toBe("renamed");
    const gone = { ...v2, deleted_at: "2026-11-28T12:00:00.000Z", updated_at: "2026-11-28T12:00:00.000Z" };
    applyTask(map, gone);
    expect(applyTask(map, v2)).toBe(false);
    expect(selectTasks(map.values(), "all", { now, tz: "UTC" })).toEqual([]);
  });
});
