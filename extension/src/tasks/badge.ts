import { browser } from "wxt/browser";
import type { Task } from "../api/schemas.ts";
import { countDueByToday } from "./views.ts";

const COUNT_COLOR = "#2563eb";

/** The toolbar badge: how many open tasks are due today (or overdue). Empty when none or signed out. */
export async function showDueCount(tasks: Task[] | null, now: Date, tz: string): Promise<void> {
  const count = tasks ? countDueByToday(tasks, now, tz) : 0;
  await browser.action.setBadgeBackgroundColor({ color: COUNT_COLOR });
  await browser.action.setBadgeText({ text: count ? String(count > 99 ? "99+" : count) : "" });
}

/** A short flash on the badge: "✓" when a capture was saved, "…" when it waits in the outbox. */
export async function flashBadge(
  kind: "saved" | "queued",
  restore: () => Promise<void>,
  ms = 1500,
): Promise<void> {
  await browser.action.setBadgeBackgroundColor({ color: kind === "saved" ? "#15803d" : "#b45309" });
  await browser.action.setBadgeText({ text: kind === "saved" ? "✓" : "…" });
  setTimeout(() => void restore().catch(() => {}), ms);
}
