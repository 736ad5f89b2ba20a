// Due dates in the user's IANA zone: chrono-node reads the phrase, Temporal does the zone arithmetic.
import * as chrono from "chrono-node";
import { Temporal } from "temporal-polyfill";
import { InvalidTaskInputError } from "./errors.ts";
import { describeRecurrence, parseRecurrence } from "./recurrence.ts";

export type Due = {
  /** the instant; for date-only dues: 00:00 local time of that date in `tz` */
  at: Date;
  /** true when no time of day was certain ("next friday", "tonight", "2026-12-01") */
  dateOnly: boolean;
  /** IANA zone the phrase was resolved in */
  tz: string;
  /** the original phrase as the user wrote it (trimmed) */
  phrase: string;
  /** "DTSTART;TZID=<tz>:<yyyymmddThhmmss>\nRRULE:..." or null */
  recurrence: string | null;
};

type Opts = { now: Date; tz: string };

const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const ISO =
  /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;
const FULL_WEEKDAY = /\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?\b/i;
const CONNECTIVE_BEFORE = /(?:^|\s)(?:(?:at|on|by|due|until|before)\s+)+$/i;

function zoned(at: Date, tz: string): Temporal.ZonedDateTime {
  return Temporal.Instant.fromEpochMilliseconds(at.getTime()).toZonedDateTimeISO(tz);
}

function startOfDay(date: Temporal.PlainDate, tz: string): Date {
  return new Date(date.toZonedDateTime(tz).epochMilliseconds);
}

/** The years a due may fall in: Postgres stores neither year 0 nor years past 294276, and JS dates end in 275760. */
const FIRST_YEAR = 1900;
const LAST_YEAR = 9999;
// ISO-looking text with a sign or more than four year digits ("+275760-09-14T00:00:00Z", "-000001-01-01").
const EXTENDED_ISO = /^[+-]\d{4,6}-|^\d{5,}-\d{2}-\d{2}/;

function invalidDue(phrase: string): InvalidTaskInputError {
  return new InvalidTaskInputError(
    `Could not understand the due date "${phrase}". Try "tomorrow 5pm", "next friday", "in 2 hours", "jan 27 9:30am", an ISO date like 2026-12-01, or "every monday at 9".`,
  );
}

/** ISO 8601 forms: date-only, local date-time (wall clock in `tz`), or an exact instant (Z / offset). */
function parseIso(text: string, tz: string): Pick<Due, "at" | "dateOnly"> | null {
  const m = ISO.exec(text);
  if (!m) return null;
  try {
    const date = Temporal.PlainDate.from(m[1] ?? "", { overflow: "reject" });
    if (!m[2]) return { at: startOfDay(date, tz), dateOnly: true };
    if (m[3])
      return {
        at: new Date(Temporal.Instant.from(`${m[1]}T${m[2]}${m[3]}`).epochMilliseconds),
        dateOnly: false,
      };
    const wall = date.toPlainDateTime(Temporal.PlainTime.from(m[2] ?? "", { overflow: "reject" }));
    return {
      at: new Date(wall.toZonedDateTime(tz, { disambiguation: "compatible" }).epochMilliseconds),
      dateOnly: false,
    };
  } catch {
    throw new InvalidTaskInputError(
      `"${text}" is not a valid date. Use a real calendar date like 2026-12-01 or 2026-12-01T17:00.`,
    );
  }
}

// Words that point back in time: with them chrono must not move the date forward ("last friday" is not next one).
const POINTS_BACK = /\b(?:last|ago|previous|past|yesterday)\b/i;

// "day after tomorrow" without "the" is not chrono's; it would read "tomorrow" and drop the rest.
const DAYS_AWAY: chrono.Parser = {
  pattern: () => /\b(?:the\s+)?day\s+(after\s+tomorrow|before\s+yesterday)\b/i,
  extract(context, match) {
    const date = context.reference.getDateWithAdjustedTimezone();
    date.setDate(date.getDate() + (/^after/i.test(match[1] ?? "") ? 2 : -2));
    return { day: date.getDate(), month: date.getMonth() + 1, year: date.getFullYear() };
  },
};
// "on the 15th", "by the 3rd": the next such day of a month (today's, else a later month that has it). chrono reads
// an ordinal day only with its month. A connective is required: "Henry the 3rd" is not a date.
const MONTH_DAY: chrono.Parser = {
  pattern: () =>
    /\b(?:on|by|due|until|before)\s+the\s+(\d{1,2})(?:st|nd|rd|th)\b(?!\s+(?:of\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|every|each|the\s+month))/i,
  extract(context, match) {
    const day = Number(match[1]);
    if (day < 1 || day > 31) return null;
    const today = plainDate(context.reference.getDateWithAdjustedTimezone());
    for (let m = 0; m < 12; m++) {
      const month = today.with({ day: 1 }).add({ months: m });
      if (day > month.daysInMonth || (m === 0 && day < today.day)) continue;
      return { day, month: month.month, year: month.year };
    }
    return null;
  },
};
const plainDate = (d: Date) =>
  Temporal.PlainDate.from({ year: d.getFullYear(), month: d.getMonth() + 1, day: d.getDate() });

// "a week from tomorrow", "2 days from friday": chrono reads "from" only in "from now", so it would count the
// span from today and leave "from tomorrow" unread. Count it from the date named instead.
const FROM_DATE: chrono.Refiner = {
  refine(context, results) {
    const merged: chrono.ParsingResult[] = [];
    for (const result of results) {
      const span = merged.at(-1);
      const between = span ? context.text.slice(span.index + span.text.length, result.index) : "";
      const isSpan =
        span?.tags().has("result/relativeDate") &&
        !span.tags().has("result/relativeDateAndTime") &&
        /\b(?:days?|weeks?|fortnights?|months?|years?)$/i.test(span.text);
      if (!span || !isSpan || !/^\s+from\s+$/i.test(between)) {
        merged.push(result);
        continue;
      }
      const today = plainDate(context.reference.getDateWithAdjustedTimezone());
      const day = plainDate(result.start.date()).add(
        today.until(plainDate(span.start.date()), { largestUnit: "years" }),
      );
      const start = result.start.clone();
      start.delete("weekday");
      start.assign("year", day.year);
      start.assign("month", day.month);
      start.assign("day", day.day);
      start.addTag("result/relativeDate");
      const text = context.text.slice(span.index, result.index + result.text.length);
      merged[merged.length - 1] = new chrono.ParsingResult(context.reference, span.index, text, start);
    }
    return merged;
  },
};

const parser = chrono.casual.clone();
parser.parsers.push(DAYS_AWAY, MONTH_DAY);
parser.refiners.push(FROM_DATE);

type Parsed = { result: chrono.ParsedResult; shift: number };

/**
 * chrono ignores IANA names, and some of its rules ("the day after tomorrow", "2 days after friday") compute in
 * the *process* zone whatever offset the reference carries. So it reads the phrase against the user's wall clock
 * given as process-local time, and its fields are read back as wall-clock fields in `tz` (dueFromChrono);
 * `shift` maps its instants back to real ones.
 */
function chronoParse(text: string, opts: Opts): Parsed[] {
  const z = zoned(opts.now, opts.tz);
  const wall = new Date(z.year, z.month - 1, z.day, z.hour, z.minute, z.second, z.millisecond);
  const shift = opts.now.getTime() - wall.getTime();
  return parser
    .parse(text, wall, { forwardDate: !POINTS_BACK.test(text) })
    .map((result) => ({ result, shift }));
}

function dueFromChrono({ result: r, shift }: Parsed, tz: string): Pick<Due, "at" | "dateOnly"> {
  const s = r.start;
  let at: Date;
  if (r.tags().has("result/relativeDateAndTime")) {
    // "in 2 hours": elapsed time from now, whatever the wall clock does in between
    at = new Date(s.date().getTime() + shift);
  } else if (s.isCertain("timezoneOffset")) {
    // "5pm UTC": the fields and their offset name the instant
    at = s.date();
  } else {
    // wall-clock fields in the user's zone; a DST change between now and then counts
    const zdt = Temporal.ZonedDateTime.from(
      {
        timeZone: tz,
        year: s.get("year") ?? 1970,
        month: s.get("month") ?? 1,
        day: s.get("day") ?? 1,
        hour: s.get("hour") ?? 0,
        minute: s.get("minute") ?? 0,
        second: s.get("second") ?? 0,
      },
      { disambiguation: "compatible" },
    );
    at = new Date(zdt.epochMilliseconds);
  }
  // chrono implies 12:00 for "next friday" and 22:00 for "tonight"; an uncertain hour means a date-only due
  if (!s.isCertain("hour")) return { at: startOfDay(zoned(at, tz).toPlainDate(), tz), dateOnly: true };
  return { at, dateOnly: false };
}

function dueFromRecurrence(rec: NonNullable<ReturnType<typeof parseRecurrence>>, tz: string): Due {
  return { at: rec.first, dateOnly: rec.dateOnly, tz, phrase: rec.text.trim(), recurrence: rec.rule };
}

function outOfRange(phrase: string): InvalidTaskInputError {
  return new InvalidTaskInputError(
    `"${phrase}" is outside the dates a task can have (years ${FIRST_YEAR} to ${LAST_YEAR}). Give a date in that range.`,
  );
}

function inRange(due: Due): Due {
  const year = due.at.getUTCFullYear(); // NaN for an invalid date, which fails both tests below
  if (!(year >= FIRST_YEAR && year <= LAST_YEAR)) throw outOfRange(due.phrase);
  return due;
}

/**
 * Parse a due phrase (natural language or ISO) in the user's zone. Throws InvalidTaskInputError when the phrase
 * is not a date, is only partly one ("+275760-09-14T00:00:00Z" must not become "00:00 today"), or falls outside
 * the years a task can have.
 */
export function parseDue(phrase: string, opts: { now: Date; tz: string }): Due {
  const text = phrase.trim();
  if (!text) throw invalidDue(phrase);
  if (EXTENDED_ISO.test(text)) throw outOfRange(text);
  const iso = parseIso(text, opts.tz);
  if (iso) return inRange({ ...iso, tz: opts.tz, phrase: text, recurrence: null });
  const rec = parseRecurrence(text, opts);
  if (rec) return inRange({ ...dueFromRecurrence(rec, opts.tz), phrase: text });
  // A whole phrase "the 15th" is a day of the month, as "on the 15th" is.
  const said = /^the\s+\d{1,2}(?:st|nd|rd|th)\b/i.test(text) ? `on ${text}` : text;
  const [parsed] = chronoParse(said, opts);
  if (!parsed) throw invalidDue(text);
  const r = parsed.result;
  // Numbers or a repeat word left over mean chrono read only part of the phrase, i.e. guessed.
  const rest = `${said.slice(0, r.index)} ${said.slice(r.index + r.text.length)}`;
  if (/\d|\b(?:every|each)\b/i.test(rest)) {
    throw new InvalidTaskInputError(
      `Only part of "${text}" reads as a date ("${r.text.trim()}"), so it was not used. Write the whole due as one phrase, e.g. "tomorrow 5pm", "2026-12-01T17:00" or "every 2 weeks".`,
    );
  }
  return inRange({ ...dueFromChrono(parsed, opts.tz), tz: opts.tz, phrase: text, recurrence: null });
}

// Words around a due phrase that are not part of the date ("on friday", "by tomorrow", "the 3rd").
const DUE_FILLER = /\b(?:on|at|by|due|until|till|before|for|the|this)\b|[,.]/gi;

/**
 * Whether all of `text` is a due phrase ("friday", "tomorrow 5pm", "every monday"), rather than words with a
 * date somewhere in them ("gym to friday", "call mum"). For telling "change X to friday" from a rename.
 */
export function isDuePhrase(text: string, opts: { now: Date; tz: string }): boolean {
  const t = text.trim();
  try {
    parseDue(t, opts);
  } catch {
    return false;
  }
  const rec = parseRecurrence(t, opts);
  const [parsed] = rec ? [] : chronoParse(t, opts);
  const span = rec
    ? { index: t.indexOf(rec.text), length: rec.text.length }
    : parsed
      ? { index: parsed.result.index, length: parsed.result.text.length }
      : { index: 0, length: t.length }; // ISO
  const rest = `${t.slice(0, span.index)} ${t.slice(span.index + span.length)}`;
  return rest.replace(DUE_FILLER, "").trim() === "";
}

/**
 * A due for a new task: as `parseDue`, and not in the past. "Today" and earlier today are fine (a task to do
 * now); "yesterday" or "2 weeks ago" are refused, since a new task due then is almost surely a misreading.
 */
export function parseNewDue(phrase: string, opts: { now: Date; tz: string }): Due {
  const due = parseDue(phrase, opts);
  if (isPast(due, opts)) {
    throw new InvalidTaskInputError(
      `"${due.phrase}" is in the past (${describeDue(due)}); a new task's due must be today or later. Give a future date, or leave due out.`,
    );
  }
  return due;
}

/** Before the start of today in the user's zone. */
function isPast(due: Due, opts: Opts): boolean {
  return due.at.getTime() < dayBounds(opts.now, opts.tz).todayStart.getTime();
}

/** Casual chrono matches bare words ("sat", "march", "now"); in a title only trust ones with real date info. */
function isConfident(r: chrono.ParsedResult, title: string): boolean {
  const text = r.text.trim().toLowerCase();
  if (text === "now" || /^for\s/.test(text)) return false; // "work out for 2 hours" is a duration, not a due
  if (/^(?:a|an|one)\s+(?:day|week|month|year)$/.test(text)) return false; // "twice a day" is how often
  const s = r.start;
  if (s.isCertain("day") || s.isCertain("hour") || r.tags().has("result/relativeDate")) return true;
  if (!s.isCertain("weekday")) return false; // a bare month ("march on", "in may")
  if (/\b(?:next|this|coming)\b/.test(text)) return true;
  const connected = /^on\s/.test(text) || CONNECTIVE_BEFORE.test(title.slice(0, r.index));
  return connected && FULL_WEEKDAY.test(text); // "on friday" yes; "sat with alex", "mon" no
}

/**
 * A date that names a thing rather than when the task is due: "book flights for the march 3 trip", "slides for
 * friday's meeting". It sits after "for"/"the"/"my"… and runs straight into the noun it describes.
 */
function isAttributive(r: chrono.ParsedResult, title: string): boolean {
  const before = /(?:^|\s)(?:for|the|my|our|your|his|her|their|this|that)\s+$/i.test(title.slice(0, r.index));
  const after = title.slice(r.index + r.text.length);
  return (
    before &&
    /^(?:'s\b|’s\b|\s+(?!(?:at|about|with|to|and|or|in|on|by|from|for|before|after|until)\b)\p{L})/iu.test(
      after,
    )
  );
}

/** Removes [start, end) from a title, plus a dangling connective ("due", "on", "by", "at") right before it. */
function stripSpan(title: string, start: number, end: number): string {
  const before = title.slice(0, start).replace(CONNECTIVE_BEFORE, " ");
  return `${before} ${title.slice(end)}`
    .replace(/\s+/g, " ")
    .replace(/\s+([,.;:!?])/g, "$1")
    .replace(/^[\s,;:\-–—]+|[\s,;:\-–—]+$/g, "");
}

/**
 * Find a due phrase inside a task title ("call mom tomorrow 5pm", "standup every weekday at 9:30"); returns the
 * title with the phrase removed, or null when the title holds no date for a new task (none, or one in the past:
 * "Meeting notes from 2 weeks ago" is about the past, not due then).
 */
export function extractDueFromTitle(
  title: string,
  opts: { now: Date; tz: string },
): { title: string; due: Due } | null {
  const rec = parseRecurrence(title, opts);
  let found: { start: number; end: number; due: Due } | null = null;
  if (rec) {
    const start = title.indexOf(rec.text);
    found = { start, end: start + rec.text.length, due: dueFromRecurrence(rec, opts.tz) };
  } else {
    const parsed = chronoParse(title, opts).find(
      (x) => isConfident(x.result, title) && !isAttributive(x.result, title),
    );
    if (!parsed) return null;
    const r = parsed.result;
    const due: Due = {
      ...dueFromChrono(parsed, opts.tz),
      tz: opts.tz,
      phrase: r.text.trim(),
      recurrence: null,
    };
    found = { start: r.index, end: r.index + r.text.length, due };
  }
  if (isPast(found.due, opts)) return null;
  inRange(found.due);
  const rest = stripSpan(title, found.start, found.end);
  // a title that is only a date ("tomorrow 5pm") keeps its words rather than becoming empty
  return { title: rest || title.trim(), due: found.due };
}

/** Local calendar date (YYYY-MM-DD) and wall time (HH:mm) of a due in its zone, for display. */
export function localParts(due: Pick<Due, "at" | "tz">): { date: string; time: string; weekday: string } {
  const z = zoned(due.at, due.tz);
  const time = `${String(z.hour).padStart(2, "0")}:${String(z.minute).padStart(2, "0")}`;
  return { date: z.toPlainDate().toString(), time, weekday: WEEKDAYS[z.dayOfWeek - 1] ?? "" };
}

/** Short human text, e.g. "Mon, Nov 23, 17:00 (Europe/Berlin)" or "Fri, Apr 3" for date-only, plus " · every Monday at 9:00" when recurring. */
export function describeDue(due: Pick<Due, "at" | "dateOnly" | "tz" | "recurrence">): string {
  const z = zoned(due.at, due.tz);
  const { time, weekday } = localParts(due);
  const day = `${weekday.slice(0, 3)}, ${MONTHS[z.month - 1]} ${z.day}`;
  const base = due.dateOnly ? day : `${day}, ${time} (${due.tz})`;
  return due.recurrence ? `${base} · ${describeRecurrence(due.recurrence)}` : base;
}

/** Start of the user's local day containing `now`, and of the next day, as instants (DST-correct). */
export function dayBounds(now: Date, tz: string): { todayStart: Date; tomorrowStart: Date } {
  const today = zoned(now, tz).toPlainDate();
  return { todayStart: startOfDay(today, tz), tomorrowStart: startOfDay(today.add({ days: 1 }), tz) };
}
