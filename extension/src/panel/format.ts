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

/** A repeat rule as the server words it ("every Friday at 16:00"), its times said as the panel says times. */
export function formatRepeat(repeat: string, locale?: string): string {
  const time = cachedFormat(locale, { hour: "numeric", minute: "2-digit", timeZone: "UTC" });
  return repeat.replace(
    /\bat (\d{1,2}):(\d{2})\b/g,
    (_, h: string, m: string) => `at ${time.format(Date.UTC(2000, 0, 1, Number(h), Number(m)))}`,
  );
}

/**
 * The locale the panel formats times in, its hour cycle spelled out ("en-US-u-hc-h12"). Chat requests carry it
 * (`metadata.locale`), so the chat's widgets, drawn on the server, show times as the panel does.
 */
export function clockLocale(): string {
  const { locale, hourCycle } = cachedFormat(undefined, { hour: "numeric" }).resolvedOptions();
  return hourCycle ? new Intl.Locale(locale, { hourCycle }).toString() : locale;
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
