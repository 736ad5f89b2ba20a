// Recurrence phrases ("every monday at 9") -> RFC 5545 rules stored as "DTSTART;TZID=<IANA>:...\nRRULE:...".
import { RRuleTemporal } from "rrule-temporal";
import { Temporal } from "temporal-polyfill";
import { InvalidTaskInputError } from "./errors.ts";

type Weekday = "MO" | "TU" | "WE" | "TH" | "FR" | "SA" | "SU";
type Freq = "DAILY" | "WEEKLY" | "MONTHLY" | "YEARLY";
type Time = { hour: number; minute: number };
type Spec = {
  freq: Freq;
  interval: number;
  byDay: Weekday[];
  byMonthDay: number | null;
  /** 1–12, for a yearly date ("every year on march 3"). */
  byMonth?: number;
  time: Time | null;
};

const WEEKDAYS: Weekday[] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
const MONTH_LABELS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const WEEKDAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const DAY =
  "(?:mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?)s?";
const DAY_LIST = String.raw`${DAY}(?:\s*(?:,\s*(?:and\s+)?|&|and\s+|\/)\s*${DAY})*`;
const TIME_AT = String.raw`(?:at|@)\s*(\d{1,2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?|noon|midnight)`;
// without "at", a bare number is not a time ("every 2 weeks 3 tasks"): require a colon or am/pm
const TIME_BARE = String.raw`(\d{1,2}:\d{2}\s*(?:[ap]\.?m\.?)?|\d{1,2}\s*[ap]\.?m\.?|noon|midnight)`;
const END = String.raw`(?![\w.])`;
/** The largest "every N <unit>" kept as a repeat; any N up to it is an exact RRULE INTERVAL. */
const MAX_INTERVAL = 1000;

// "every <n|other> <unit>", "every 15th", "every mon, wed and fri", "every morning"
const EVERY = new RegExp(
  String.raw`\bevery\s+(?:(?:(other|second|\d+)(?:st|nd|rd|th)?\s+)?(?:(weekday|weekend|day|week|month|year)s?|(${DAY_LIST})|(morning|afternoon|evening|night)s?)|(\d{1,2})(?:st|nd|rd|th)(?:\s+of\s+(?:the|every)\s+month)?)${END}`,
  "gi",
);
// "the 1st of every month", "15th of each month"
const MONTH_DAY_OF_EVERY = new RegExp(
  String.raw`\b(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)\s+(?:day\s+)?of\s+(?:every|each)\s+month${END}`,
  "gi",
);
/** "every morning" is every day at a time people mean by it, unless a time is said ("every evening at 8"). */
const PART_OF_DAY: Record<string, Time> = {
  morning: { hour: 9, minute: 0 },
  afternoon: { hour: 15, minute: 0 },
  evening: { hour: 19, minute: 0 },
  night: { hour: 21, minute: 0 },
};
// adverbs also work as adjectives ("daily standup"), so they only count at the end or before a time
const ADVERB =
  /\b(daily|weekly|monthly|yearly|annually|fortnightly|biweekly|everyday)(?=\s*(?:$|[,.;!?)]|on\s|(?:at|@)\s*\d|(?:at\s+)?(?:noon|midnight)|\d{1,2}(?::\d{2}|\s*[ap]\.?m)))/gi;
const ON_DAYS = new RegExp(String.raw`\s+on\s+(${DAY_LIST})${END}`, "iy");
const MONTH_NAMES = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const MONTH =
  "(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)";
// " on march 3", " on the 3rd of march", " on 3 march": a yearly date.
const ON_DATE = new RegExp(
  String.raw`\s+on\s+(?:${MONTH}\s+(\d{1,2})(?:st|nd|rd|th)?|(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?${MONTH})${END}`,
  "iy",
);
const ON_MONTH_DAY = new RegExp(String.raw`\s+on\s+the\s+(\d{1,2})(?:st|nd|rd|th)?${END}`, "iy");
const TIME_AFTER = new RegExp(String.raw`(?:\s*,?\s*${TIME_AT}|\s+${TIME_BARE})${END}`, "iy");
const TIME_BEFORE = new RegExp(String.raw`(?:${TIME_AT}|${TIME_BARE})\s+$`, "i");

function weekdayOf(token: string): Weekday {
  const t = token.toLowerCase();
  const i = ["mo", "tu", "we", "th", "fr", "sa", "su"].indexOf(t.slice(0, 2));
  return WEEKDAYS[i] ?? "MO";
}

function parseDayList(list: string): Weekday[] {
  const found = list.match(new RegExp(DAY, "gi")) ?? [];
  // keep the week order so rules and summaries are stable
  return WEEKDAYS.filter((d) => found.some((t) => weekdayOf(t) === d));
}

function parseTime(raw: string): Time | null {
  const t = raw.toLowerCase().replace(/\./g, "").replace(/\s+/g, "");
  if (t === "noon") return { hour: 12, minute: 0 };
  if (t === "midnight") return { hour: 0, minute: 0 };
  const m = /^(\d{1,2})(?::(\d{2}))?(am|pm)?$/.exec(t);
  if (!m) return null;
  let hour = Number(m[1]);
  const minute = Number(m[2] ?? 0);
  if (minute > 59) return null;
  if (m[3]) {
    if (hour < 1 || hour > 12) return null;
    hour = (hour % 12) + (m[3] === "pm" ? 12 : 0);
  }
  return hour > 23 ? null : { hour, minute };
}

function specFromEvery(m: RegExpExecArray): Spec | null {
  const [, every, unit, days, partOfDay, monthDay] = m;
  const base: Spec = { freq: "WEEKLY", interval: 1, byDay: [], byMonthDay: null, time: null };
  if (monthDay) {
    const d = Number(monthDay);
    return d >= 1 && d <= 31 ? { ...base, freq: "MONTHLY", byMonthDay: d } : null;
  }
  const interval = every === "other" || every === "second" ? 2 : Number(every ?? 1);
  const u = unit?.toLowerCase();
  // An interval that cannot be honoured is refused, not read as a one-off date ("every 0 days" as today).
  if (interval < 1 || interval > MAX_INTERVAL) {
    const what = `every ${every} ${u ?? "week"}s`;
    throw new InvalidTaskInputError(
      interval < 1
        ? `"${what}" never repeats. Use a number from 1, e.g. "every 2 ${u ?? "week"}s".`
        : `"${what}" is too far apart to repeat: at most every ${MAX_INTERVAL} ${u ?? "week"}s.`,
    );
  }
  if (u === "day" || partOfDay) return { ...base, freq: "DAILY", interval };
  if (u === "week") return { ...base, interval };
  if (u === "month") return { ...base, freq: "MONTHLY", interval };
  if (u === "year") return { ...base, freq: "YEARLY", interval };
  if (u === "weekday") return { ...base, interval, byDay: ["MO", "TU", "WE", "TH", "FR"] };
  if (u === "weekend") return { ...base, interval, byDay: ["SA", "SU"] };
  return { ...base, interval, byDay: parseDayList(days ?? "") };
}

function specFromMonthDay(m: RegExpExecArray): Spec | null {
  const d = Number(m[1]);
  return d >= 1 && d <= 31 ? { freq: "MONTHLY", interval: 1, byDay: [], byMonthDay: d, time: null } : null;
}

/** "every evening at 8" is 20:00: a time said without am/pm is read in its part of the day. */
function timeOfDay(partOfDay: string, said: Time | null, phrase: string): Time {
  const fallback = PART_OF_DAY[partOfDay] ?? { hour: 9, minute: 0 };
  if (!said) return fallback;
  const afterNoon = partOfDay !== "morning" && said.hour >= 1 && said.hour < 12 && !/[ap]\.?m/i.test(phrase);
  return afterNoon ? { ...said, hour: said.hour + 12 } : said;
}

function specFromAdverb(word: string): Spec {
  const base: Spec = { freq: "WEEKLY", interval: 1, byDay: [], byMonthDay: null, time: null };
  const w = word.toLowerCase();
  if (w === "daily" || w === "everyday") return { ...base, freq: "DAILY" };
  if (w === "monthly") return { ...base, freq: "MONTHLY" };
  if (w === "yearly" || w === "annually") return { ...base, freq: "YEARLY" };
  if (w === "fortnightly" || w === "biweekly") return { ...base, interval: 2 };
  return base;
}

/** Consumes optional " on monday", " on the 15th", " at 9" after the core phrase; returns the new end. */
function readSuffixes(text: string, start: number, spec: Spec): number {
  let end = start;
  for (let progress = true; progress; ) {
    progress = false;
    ON_DAYS.lastIndex = end;
    const days = spec.freq === "WEEKLY" && spec.byDay.length === 0 ? ON_DAYS.exec(text) : null;
    if (days) {
      spec.byDay = parseDayList(days[1] ?? "");
      end = ON_DAYS.lastIndex;
      progress = true;
    }
    ON_MONTH_DAY.lastIndex = end;
    const md = spec.freq === "MONTHLY" && spec.byMonthDay === null ? ON_MONTH_DAY.exec(text) : null;
    const mdNum = Number(md?.[1] ?? 0);
    if (md && mdNum >= 1 && mdNum <= 31) {
      spec.byMonthDay = mdNum;
      end = ON_MONTH_DAY.lastIndex;
      progress = true;
    }
    ON_DATE.lastIndex = end;
    const date = spec.freq === "YEARLY" && spec.byMonth === undefined ? ON_DATE.exec(text) : null;
    const month = MONTH_NAMES.indexOf((date?.[1] ?? date?.[4] ?? "").slice(0, 3).toLowerCase()) + 1;
    const day = Number(date?.[2] ?? date?.[3] ?? 0);
    if (date && month >= 1 && day >= 1 && day <= new Temporal.PlainYearMonth(2024, month).daysInMonth) {
      spec.byMonth = month;
      spec.byMonthDay = day;
      end = ON_DATE.lastIndex;
      progress = true;
    }
    TIME_AFTER.lastIndex = end;
    const tm = spec.time === null ? TIME_AFTER.exec(text) : null;
    const time = tm ? parseTime(tm[1] ?? tm[2] ?? "") : null;
    if (tm && time) {
      spec.time = time;
      end = TIME_AFTER.lastIndex;
      progress = true;
    }
  }
  return end;
}

/** Finds the first recurrence phrase in `text`, with its span. */
function findSpec(text: string): { spec: Spec; start: number; end: number } | null {
  EVERY.lastIndex = 0;
  ADVERB.lastIndex = 0;
  MONTH_DAY_OF_EVERY.lastIndex = 0;
  const candidates = [
    { m: EVERY.exec(text), spec: specFromEvery },
    { m: MONTH_DAY_OF_EVERY.exec(text), spec: specFromMonthDay },
    { m: ADVERB.exec(text), spec: (m: RegExpExecArray) => specFromAdverb(m[1] ?? "") },
  ].filter((c): c is { m: RegExpExecArray; spec: (m: RegExpExecArray) => Spec | null } => c.m !== null);
  // The earliest phrase wins; on a tie the order above.
  const first = candidates.sort((a, b) => a.m.index - b.m.index)[0];
  if (!first) return null;
  const { m } = first;
  const spec = first.spec(m);
  if (!spec) return null;
  let start = m.index;
  const end = readSuffixes(text, m.index + m[0].length, spec);
  if (!spec.time) {
    // "at 9 every monday"
    const before = TIME_BEFORE.exec(text.slice(0, start));
    const time = before ? parseTime(before[1] ?? before[2] ?? "") : null;
    if (before && time) {
      spec.time = time;
      start = before.index;
    }
  }
  const partOfDay = first.spec === specFromEvery ? m[4]?.toLowerCase() : undefined;
  if (partOfDay) spec.time = timeOfDay(partOfDay, spec.time, text.slice(start, end));
  return { spec, start, end };
}

function toInstant(wall: Temporal.PlainDateTime, tz: string): Date {
  // 'compatible': a wall time in a spring-forward gap moves forward, an ambiguous one takes the earlier instant
  return new Date(wall.toZonedDateTime(tz, { disambiguation: "compatible" }).epochMilliseconds);
}

function matchesDay(spec: Spec, d: Temporal.PlainDate): boolean {
  if (spec.byDay.length > 0 && !spec.byDay.includes(WEEKDAYS[d.dayOfWeek - 1] ?? "MO")) return false;
  if (spec.byMonth !== undefined && d.month !== spec.byMonth) return false;
  return spec.byMonthDay === null || d.day === spec.byMonthDay;
}

/** First wall-clock occurrence at or after `now` (date-only: on or after today). */
function firstWall(spec: Spec, now: Date, tz: string): Temporal.PlainDateTime | null {
  const today = Temporal.Instant.fromEpochMilliseconds(now.getTime()).toZonedDateTimeISO(tz).toPlainDate();
  const time = new Temporal.PlainTime(spec.time?.hour ?? 0, spec.time?.minute ?? 0);
  for (let i = 0; i < 400; i++) {
    const day = today.add({ days: i });
    if (!matchesDay(spec, day)) continue;
    const wall = day.toPlainDateTime(time);
    if (spec.time && toInstant(wall, tz).getTime() < now.getTime()) continue;
    return wall;
  }
  return null;
}

function formatWall(wall: Temporal.PlainDateTime): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(wall.year, 4)}${p(wall.month)}${p(wall.day)}T${p(wall.hour)}${p(wall.minute)}${p(wall.second)}`;
}

function buildRule(spec: Spec, dtstart: Temporal.PlainDateTime, tz: string): string {
  const parts = [`FREQ=${spec.freq}`];
  if (spec.interval > 1) parts.push(`INTERVAL=${spec.interval}`);
  if (spec.byDay.length > 0) parts.push(`BYDAY=${spec.byDay.join(",")}`);
  if (spec.byMonth !== undefined) parts.push(`BYMONTH=${spec.byMonth}`);
  if (spec.byMonthDay !== null) parts.push(`BYMONTHDAY=${spec.byMonthDay}`);
  // explicit BYHOUR/BYMINUTE keep occurrences at the same local wall time across DST
  if (spec.time) parts.push(`BYHOUR=${spec.time.hour}`, `BYMINUTE=${spec.time.minute}`, "BYSECOND=0");
  return `DTSTART;TZID=${tz}:${formatWall(dtstart)}\nRRULE:${parts.join(";")}`;
}

/** Detects a recurrence phrase ("every monday at 9", "every weekday", "every 2 weeks", "daily", "every month on the 15th", "every mon, wed and fri at 7pm"). Returns null when the text has no recurrence. `text` is the matched part of the input (so a caller can strip it from a title). */
export function parseRecurrence(
  text: string,
  opts: { now: Date; tz: string },
): { rule: string; first: Date; dateOnly: boolean; text: string } | null {
  const found = findSpec(text);
  if (!found) return null;
  const wall = firstWall(found.spec, opts.now, opts.tz);
  if (!wall) return null;
  return {
    rule: buildRule(found.spec, wall, opts.tz),
    first: toInstant(wall, opts.tz),
    dateOnly: found.spec.time === null,
    text: text.slice(found.start, found.end),
  };
}

type ParsedRule = { tz: string | null; dtstart: string; rrule: Map<string, string> };

function parseRule(rule: string): ParsedRule {
  const tzStart = /^DTSTART;TZID=([^:\s]+):(\d{8}T\d{6})\s*$/m.exec(rule);
  const utcStart = /^DTSTART:(\d{8}T\d{6}Z?)\s*$/m.exec(rule);
  const rrule = /^RRULE:(.+)$/m.exec(rule)?.[1] ?? "";
  const parts = new Map(rrule.split(";").map((p) => p.split("=", 2) as [string, string]));
  return { tz: tzStart?.[1] ?? null, dtstart: tzStart?.[2] ?? utcStart?.[1] ?? "", rrule: parts };
}

function wallFromBasic(s: string): Temporal.PlainDateTime {
  const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2}))?/.exec(s);
  const n = (i: number) => Number(m?.[i] ?? 0);
  return new Temporal.PlainDateTime(n(1), n(2), n(3), n(4), n(5), n(6));
}

/** Same rule evaluated on "floating" wall-clock time (UTC has no DST, so nothing falls in a gap). */
function floatingRule(p: ParsedRule, tz: string): RRuleTemporal<Temporal.ZonedDateTime> {
  const rrule = [...p.rrule]
    .map(([k, v]) => {
      // UNTIL is an instant; convert it to the zone's wall clock like everything else
      if (k !== "UNTIL" || !v.endsWith("Z")) return `${k}=${v}`;
      const inst = Temporal.Instant.from(`${wallFromBasic(v).toString()}Z`);
      return `UNTIL=${formatWall(inst.toZonedDateTimeISO(tz).toPlainDateTime())}Z`;
    })
    .join(";");
  return new RRuleTemporal({
    rruleString: `DTSTART;TZID=UTC:${p.dtstart}\nRRULE:${rrule}`,
    temporal: Temporal,
  });
}

/** The next occurrence strictly after `after` for a stored rule (DTSTART;TZID + RRULE string), or null when the rule has ended. DST-correct. */
export function nextOccurrence(rule: string, after: Date): Date | null {
  const p = parseRule(rule);
  if (!p.tz) {
    const next = new RRuleTemporal({ rruleString: rule, temporal: Temporal }).next(after);
    return next ? new Date(next.epochMilliseconds) : null;
  }
  const tz = p.tz;
  const rr = floatingRule(p, tz);
  // rrule-temporal drops wall times in a DST gap (RFC 5545); evaluating wall-clock and resolving each with
  // 'compatible' shifts them to the next valid time instead. Start a day early: offsets move wall vs instant order.
  const afterWall = Temporal.Instant.fromEpochMilliseconds(after.getTime())
    .toZonedDateTimeISO(tz)
    .toPlainDateTime();
  let cursor = rr.next(new Date(afterWall.toZonedDateTime("UTC").epochMilliseconds - 86_400_000));
  for (let i = 0; cursor && i < 1000; i++) {
    const at = toInstant(cursor.toPlainDateTime(), tz);
    if (at.getTime() > after.getTime()) return at;
    cursor = rr.next(cursor);
  }
  return null;
}

function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${["th", "st", "nd", "rd"][n % 10] ?? "th"}`;
}

function joinList(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

function describeDays(days: Weekday[], interval: number): string {
  const key = days.join(",");
  const every = interval > 1 ? `every ${interval} weeks on ` : "every ";
  if (key === "MO,TU,WE,TH,FR" && interval === 1) return "every weekday";
  if (key === "SA,SU" && interval === 1) return "every weekend day";
  return every + joinList(days.map((d) => WEEKDAY_NAMES[WEEKDAYS.indexOf(d)] ?? d));
}

function describeFreq(parts: Map<string, string>): string {
  const interval = Number(parts.get("INTERVAL") ?? 1);
  const freq = parts.get("FREQ") ?? "";
  const byDay = (parts.get("BYDAY") ?? "")
    .split(",")
    .filter((d): d is Weekday => WEEKDAYS.includes(d as Weekday));
  const unit = { DAILY: "day", WEEKLY: "week", MONTHLY: "month", YEARLY: "year" }[freq] ?? freq.toLowerCase();
  if (freq === "WEEKLY" && byDay.length > 0) return describeDays(byDay, interval);
  const base = interval > 1 ? `every ${interval} ${unit}s` : `every ${unit}`;
  const monthDay = parts.get("BYMONTHDAY");
  const month = Number(parts.get("BYMONTH"));
  if (freq === "YEARLY" && monthDay && /^\d+$/.test(monthDay) && month >= 1 && month <= 12)
    return `${base} on ${MONTH_LABELS[month - 1]} ${Number(monthDay)}`;
  return freq === "MONTHLY" && monthDay && /^\d+$/.test(monthDay)
    ? `${base} on the ${ordinal(Number(monthDay))}`
    : base;
}

function describeTime(p: ParsedRule): string {
  const hour = p.rrule.get("BYHOUR");
  const start = wallFromBasic(p.dtstart);
  const h = hour !== undefined ? Number(hour.split(",")[0]) : start.hour;
  const m = hour !== undefined ? Number((p.rrule.get("BYMINUTE") ?? "0").split(",")[0]) : start.minute;
  // date-only rules start at 00:00 and carry no BYHOUR
  if (hour === undefined && h === 0 && m === 0) return "";
  return ` at ${h}:${String(m).padStart(2, "0")}`;
}

function describeEnd(parts: Map<string, string>): string {
  const count = parts.get("COUNT");
  if (count) return `, ${count} times`;
  const until = parts.get("UNTIL");
  return until ? `, until ${wallFromBasic(until).toPlainDate().toString()}` : "";
}

/** Human summary like "every Monday at 9:00" / "every weekday" / "every 2 weeks". */
export function describeRecurrence(rule: string): string {
  const p = parseRule(rule);
  return describeFreq(p.rrule) + describeTime(p) + describeEnd(p.rrule);
}
