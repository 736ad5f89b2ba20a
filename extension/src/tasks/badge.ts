import { browser } from "wxt/browser";
import type { Task } from "../api/schemas.ts";
import { countDueByToday } from "./views.ts";

const COUNT_COLOR = "#2563eb";
// Firefox's MV2 build has browserAction where Chromium's MV3 has action.
const toolbar = () => browser.action ?? browser.browserAction;

/** The toolbar badge: how many open tasks are due today (or overdue). Empty when none or signed out. */
export async function showDueCount(tasks: Task[] | null, now: Date, tz: string): Promise<void> {
  const count = tasks ? countDueByToday(tasks, now, tz) : 0;
  await toolbar().setBadgeBackgroundColor({ color: COUNT_COLOR });
  await toolbar().setBadgeText({ text: count ? String(count > 99 ? "99+" : count) : "" });
}

/** A short flash on the badge: "✓" when a capture was saved, "…" when it waits in the outbox. */
export async function flashBadge(
  kind: "saved" | "queued",
  restore: () => Promise<void>,
  ms = 1500,
): Promise<void> {
  await toolbar().setBadgeBackgroundColor({ color: kind === "saved" ? "#15803d" : "#b45309" });
  await toolbar().setBadgeText({ text: kind === "saved" ? "✓" : "…" });
  setTimeout(() => void restore().catch(() => {}), ms);
}
