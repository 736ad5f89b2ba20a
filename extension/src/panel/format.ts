import type { Task } from "../api/schemas.ts";
import { cachedFormat, localDate } from "../tasks/views.ts";

/** "Today 17:00", "Tomorrow", "Tue, Dec 1 09:30" in the user's zone. */
export function formatDue(task: Task, now: Date, tz: string): string {
  if (!task.due) return "";
  const at = new Date(task.due.at);
  const day = task.due.date_only ? task.due.date : localDate(at, tz);
  const today = localDate(now, tz);
  const tomorrow = localDate(new Date(now.getTime() + 86_400_000), tz);
  const yesterday = localDate(new Date(now.getTime() - 86_400_000), tz);
  const dayText =
    day === today
      ? "Today"
      : day === tomorrow
        ? "Tomorrow"
        : day === yesterday
          ? "Yesterday"
          : cachedFormat(undefined, {
              weekday: "short",
              month: "short",
              day: "numeric",
              timeZone: task.due.date_only ? "UTC" : tz,
              ...(day.slice(0, 4) !== today.slice(0, 4) ? { year: "numeric" } : {}),
            }).format(task.due.date_only ? new Date(`${day}T12:00:00Z`) : at);
  if (task.due.date_only) return dayText;
  const time = cachedFormat(undefined, { hour: "numeric", minute: "2-digit", timeZone: tz }).format(at);
  return `${dayText} ${time}`;
}

/** A short form of a URL for the page card and source links. */
export function shortUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") return url;
    return `${u.hostname.replace(/^www\./, "")}${u.pathname === "/" ? "" : u.pathname}`;
  } catch {
    return url;
  }
}
