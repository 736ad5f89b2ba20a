import { describe, expect, it } from "vitest";
import { dayBounds, describeDue, extractDueFromTitle, localParts, parseDue, parseNewDue } from "./due.ts";
import { InvalidTaskInputError } from "./errors.ts";

const BERLIN = "Europe/Berlin";
const NY = "America/New_York";
// Europe/Berlin: DST starts 2026-03-29 01:00Z, ends 2026-10-25 01:00Z. New York: starts 2026-03-08 07:00Z, ends 2026-11-01 06:00Z.
const BERLIN_SPRING = new Date("2026-03-28T20:00:00Z");
const NY_SPRING = new Date("2026-03-07T23:00:00Z");

// [tz, now, phrase, expected instant or "date:YYYY-MM-DD" for date-only] — the verified table of the recipe
const cases: [string, string, string, string][] = [
  [BERLIN, "2026-03-28T20:00:00Z", "tomorrow 5pm", "2026-03-29T15:00:00.000Z"],
  [BERLIN, "2026-03-28T20:00:00Z", "next friday", "date:2026-04-03"],
  [BERLIN, "2026-03-28T20:00:00Z", "in 2 hours", "2026-03-28T22:00:00.000Z"],
  [BERLIN, "2026-03-28T20:00:00Z", "jan 27 9:30am", "2027-01-27T08:30:00.000Z"],
  [BERLIN, "2026-03-28T20:00:00Z", "tonight", "date:2026-03-28"],
  [BERLIN, "2026-03-28T20:00:00Z", "tomorrow 2:30am", "2026-03-29T01:30:00.000Z"], // nonexistent -> 03:30 CEST
  [BERLIN, "2026-03-29T00:30:00Z", "in 2 hours", "2026-03-29T02:30:00.000Z"], // across the gap: absolute
  [BERLIN, "2026-10-24T18:00:00Z", "tomorrow 5pm", "2026-10-25T16:00:00.000Z"], // across fall-back
  [BERLIN, "2026-10-24T18:00:00Z", "tomorrow 2:30am", "2026-10-25T00:30:00.000Z"], // ambiguous -> earlier (CEST)
  [NY, "2026-03-07T23:00:00Z", "tomorrow 5pm", "2026-03-08T21:00:00.000Z"],
  [NY, "2026-03-07T23:00:00Z", "next friday", "date:2026-03-13"],
  [NY, "2026-03-07T23:00:00Z", "in 2 hours", "2026-03-08T01:00:00.000Z"],
  [NY, "2026-03-07T23:00:00Z", "jan 27 9:30am", "2027-01-27T14:30:00.000Z"],
  [NY, "2026-03-07T23:00:00Z", "tonight", "date:2026-03-07"],
  [NY, "2026-10-31T22:00:00Z", "tomorrow 5pm", "2026-11-01T22:00:00.000Z"],
  [NY, "2026-11-01T05:30:00Z", "in 2 hours", "2026-11-01T07:30:00.000Z"],
  [NY, "2026-03-07T23:00:00Z", "at 9", "2026-03-08T13:00:00.000Z"], // next 9:00 = Sun 9:00 EDT
  [BERLIN, "2026-03-28T20:00:00Z", "the 15th", "date:2026-04-15"], // a day of the month: the next one
  [BERLIN, "2026-03-28T20:00:00Z", "on the 28th", "date:2026-03-28"], // today's
  [BERLIN, "2026-03-28T20:00:00Z", "the 31st", "date:2026-03-31"],
  [BERLIN, "2026-04-02T10:00:00Z", "the 31st", "date:2026-05-31"], // April has no 31st
];

describe("parseDue", () => {
  it.each(cases)("%s at %s: %j -> %s", (tz, now, phrase, expected) => {
    const due = parseDue(phrase, { now: new Date(now), tz });
    expect(due.tz).toBe(tz);
    expect(due.phrase).toBe(phrase);
    expect(due.recurrence).toBeNull();
    if (expected.startsWith("date:")) {
      expect(due.dateOnly).toBe(true);
      expect(localParts(due)).toMatchObject({ date: expected.slice(5), time: "00:00" });
    } else {
      expect(due.dateOnly).toBe(false);
      expect(due.at.toISOString()).toBe(expected);
    }
  });

  it("treats 'tonight' as date-only today: chrono implies 22:00 but the hour is not certain", () => {
    const due = parseDue("tonight", { now: BERLIN_SPRING, tz: BERLIN });
    expect(due).toMatchObject({ dateOnly: true, at: new Date("2026-03-27T23:00:00Z") }); // 00:00 CET on Mar 28
  });

  it("puts date-only dues at local midnight of that date", () => {
    const due = parseDue("next friday", { now: BERLIN_SPRING, tz: BERLIN });
    expect(due.at.toISOString()).toBe("2026-04-02T22:00:00.000Z"); // 00:00 CEST on Apr 3
  });

  it("trims the phrase", () => {
    expect(parseDue("  tomorrow 5pm \n", { now: BERLIN_SPRING, tz: BERLIN }).phrase).toBe("tomorrow 5pm");
  });

  it("does not depend on the process zone being the user's zone", () => {
    expect(process.env.TZ).toBe("UTC");
    expect(parseDue("tomorrow 5pm", { now: NY_SPRING, tz: NY }).at.toISOString()).toBe(
      "2026-03-08T21:00:00.000Z",
    );
  });

  describe("ISO forms", () => {
    const opts = { now: BERLIN_SPRING, tz: BERLIN };

    it("date only -> local midnight, dateOnly", () => {
      expect(parseDue("2026-12-01", opts)).toEqual({
        at: new Date("2026-11-30T23:00:00Z"),
        dateOnly: true,
        tz: BERLIN,
        phrase: "2026-12-01",
        recurrence: null,
      });
    });

    it("local date-time without offset -> wall clock in tz", () => {
      expect(parseDue("2026-12-01T17:00", opts)).toMatchObject({
        at: new Date("2026-12-01T16:00:00Z"),
        dateOnly: false,
      });
      expect(parseDue("2026-07-01 17:00:30", opts).at.toISOString()).toBe("2026-07-01T15:00:30.000Z");
    });

    it("Z or offset -> that exact instant", () => {
      expect(parseDue("2026-12-01T17:00:00Z", opts)).toMatchObject({
        at: new Date("2026-12-01T17:00:00Z"),
        dateOnly: false,
      });
      expect(parseDue("2026-12-01T17:00+05:30", opts).at.toISOString()).toBe("2026-12-01T11:30:00.000Z");
      expect(parseDue("2026-12-01T17:00:00-0500", opts).at.toISOString()).toBe("2026-12-01T22:00:00.000Z");
    });

    it("rejects impossible calendar dates", () => {
      expect(() => parseDue("2026-02-30", opts)).toThrow(InvalidTaskInputError);
      expect(() => parseDue("2026-12-01T25:00", opts)).toThrow(/2026-12-01/);
    });
  });

  describe("recurrence phrases", () => {
    it("'every monday at 9' asked on a Monday at 10:00 starts next Monday", () => {
      const now = new Date("2027-03-22T09:00:00Z"); // Mon 10:00 CET
      const due = parseDue("every monday at 9", { now, tz: BERLIN });
      expect(due.at.toISOString()).toBe("2027-03-29T07:00:00.000Z"); // 09:00 CEST, after the change
      expect(due.dateOnly).toBe(false);
      expect(due.recurrence).toBe(
        "DTSTART;TZID=Europe/Berlin:20270329T090000\nRRULE:FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0;BYSECOND=0",
      );
    });

    it("without a time the rule is date-only at local midnight", () => {
      const due = parseDue("every weekday", { now: BERLIN_SPRING, tz: BERLIN }); // Saturday
      expect(due).toMatchObject({ dateOnly: true, at: new Date("2026-03-29T22:00:00Z") }); // Mon Mar 30 00:00 CEST
      expect(due.recurrence).toContain("RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR");
    });
  });

  it.each(["blorp", "", "   ", "read chapter 5"])(
    "throws a helpful InvalidTaskInputError for %j",
    (phrase) => {
      const parse = () => parseDue(phrase, { now: BERLIN_SPRING, tz: BERLIN });
      expect(parse).toThrow(InvalidTaskInputError);
      expect(parse).toThrow(/Could not understand the due date .*Try "tomorrow 5pm", "next friday"/);
    },
  );

  it("error message quotes the phrase", () => {
    expect(() => parseDue("blorp", { now: BERLIN_SPRING, tz: BERLIN })).toThrow(
      'Could not understand the due date "blorp".',
    );
  });
});

describe("phrases that cannot be honoured", () => {
  const berlin = { now: BERLIN_SPRING, tz: BERLIN };

  it.each([
    ["0000-01-01", /years 1900 to 9999/],
    ["1899-12-31", /years 1900 to 9999/],
    ["+275760-09-14T00:00:00Z", /years 1900 to 9999/],
    ["-000001-01-01", /years 1900 to 9999/],
    ["12026-01-01", /years 1900 to 9999/],
    ["every 0 days", /never repeats/],
    ["every 0 weeks", /never repeats/],
    ["every 5000 days", /at most every 1000 days/],
    ["tomorrow 5", /Only part of "tomorrow 5" reads as a date/],
    ["friday 10 or 11", /Only part/],
  ])("refuses %j", (phrase, message) => {
    expect(() => parseDue(phrase, berlin)).toThrow(message);
  });

  it("keeps a large interval as an exact rule", () => {
    expect(parseDue("every 1000 days", berlin).recurrence).toContain("FREQ=DAILY;INTERVAL=1000");
    expect(parseDue("every 52 weeks", berlin).recurrence).toContain("FREQ=WEEKLY;INTERVAL=52");
  });

  it("reads 'last friday' as the past, not the next friday", () => {
    expect(localParts(parseDue("last friday", berlin)).date).toBe("2026-03-27");
  });
});

// Relative phrases count from the user's local date, not the UTC date: each "now" below falls on a different
// calendar day in the user's zone than in UTC.
const AUCKLAND = "Pacific/Auckland";
const LA = "America/Los_Angeles";
const AUCKLAND_THU = new Date("2026-06-10T20:00:00Z"); // Thu Jun 11, 08:00 NZST (UTC: Wed Jun 10)
const LA_WED = new Date("2026-06-11T03:00:00Z"); // Wed Jun 10, 20:00 PDT (UTC: Thu Jun 11)
const AUCKLAND_DST = new Date("2026-04-04T12:30:00Z"); // Sun Apr 5, 01:30 NZDT; clocks go back at 03:00

// [zone, now, phrase, local date (and time, when the phrase has one)]
const localCases: [string, Date, string, string][] = [
  [AUCKLAND, AUCKLAND_THU, "today", "2026-06-11"],
  [AUCKLAND, AUCKLAND_THU, "tomorrow", "2026-06-12"],
  [AUCKLAND, AUCKLAND_THU, "the day after tomorrow", "2026-06-13"],
  [AUCKLAND, AUCKLAND_THU, "day after tomorrow", "2026-06-13"],
  [AUCKLAND, AUCKLAND_THU, "the day after tomorrow at 9am", "2026-06-13 09:00"],
  [AUCKLAND, AUCKLAND_THU, "overmorrow", "2026-06-13"],
  [AUCKLAND, AUCKLAND_THU, "in 2 days", "2026-06-13"],
  [AUCKLAND, AUCKLAND_THU, "2 days from now", "2026-06-13"],
  [AUCKLAND, AUCKLAND_THU, "in 2 days at 5pm", "2026-06-13 17:00"],
  [AUCKLAND, AUCKLAND_THU, "3 days after tomorrow", "2026-06-15"],
  [AUCKLAND, AUCKLAND_THU, "next week", "2026-06-18"],
  [AUCKLAND, AUCKLAND_THU, "in a week", "2026-06-18"],
  [AUCKLAND, AUCKLAND_THU, "a week from tomorrow", "2026-06-19"],
  [AUCKLAND, AUCKLAND_THU, "next month", "2026-07-11"],
  [AUCKLAND, AUCKLAND_THU, "friday", "2026-06-12"],
  [AUCKLAND, AUCKLAND_THU, "next friday", "2026-06-19"],
  [AUCKLAND, AUCKLAND_THU, "monday", "2026-06-15"],
  [AUCKLAND, AUCKLAND_THU, "wednesday", "2026-06-17"], // yesterday in Auckland, today in UTC: next week's
  [AUCKLAND, AUCKLAND_THU, "thursday at 10am", "2026-06-11 10:00"], // later today
  [AUCKLAND, AUCKLAND_THU, "this weekend", "2026-06-13"],
  [AUCKLAND, AUCKLAND_THU, "tonight", "2026-06-11"],
  [AUCKLAND, AUCKLAND_THU, "at 9", "2026-06-11 09:00"],
  [AUCKLAND, AUCKLAND_THU, "in 2 hours", "2026-06-11 10:00"],
  [AUCKLAND, AUCKLAND_THU, "the day before yesterday", "2026-06-09"],
  [AUCKLAND, AUCKLAND_DST, "the day after tomorrow", "2026-04-07"],
  [AUCKLAND, AUCKLAND_DST, "tomorrow 5pm", "2026-04-06 17:00"],
  [LA, LA_WED, "today", "2026-06-10"],
  [LA, LA_WED, "tomorrow", "2026-06-11"],
  [LA, LA_WED, "the day after tomorrow", "2026-06-12"],
  [LA, LA_WED, "day after tomorrow", "2026-06-12"],
  [LA, LA_WED, "the day after tomorrow 5pm", "2026-06-12 17:00"],
  [LA, LA_WED, "in 2 days", "2026-06-12"],
  [LA, LA_WED, "in 3 days", "2026-06-13"],
  [LA, LA_WED, "2 days after friday", "2026-06-14"],
  [LA, LA_WED, "2 days from friday", "2026-06-14"],
  [LA, LA_WED, "a week from tomorrow at 5pm", "2026-06-18 17:00"],
  [LA, LA_WED, "next week", "2026-06-17"],
  [LA, LA_WED, "in 2 weeks", "2026-06-24"],
  [LA, LA_WED, "next month", "2026-07-10"],
  [LA, LA_WED, "thursday", "2026-06-11"], // tomorrow in LA, today in UTC
  [LA, LA_WED, "friday", "2026-06-12"],
  [LA, LA_WED, "this friday", "2026-06-12"],
  [LA, LA_WED, "next tuesday 3pm", "2026-06-16 15:00"],
  [LA, LA_WED, "tonight", "2026-06-10"],
  [LA, LA_WED, "in 2 hours", "2026-06-10 22:00"],
  [LA, LA_WED, "the day before yesterday", "2026-06-08"],
];

describe("relative phrases in the user's local day", () => {
  it.each(localCases)("%s at %s: %j -> %s", (tz, now, phrase, expected) => {
    const due = parseDue(phrase, { now, tz });
    const { date, time } = localParts(due);
    expect(due.dateOnly ? date : `${date} ${time}`).toBe(expected);
  });

  it("gives the same answers whatever the process zone is", () => {
    const answers = () =>
      localCases.map(([tz, now, phrase]) => parseDue(phrase, { now, tz }).at.toISOString());
    const inUtc = answers();
    try {
      for (const zone of ["Pacific/Auckland", "America/Los_Angeles", "Asia/Kolkata"]) {
        process.env.TZ = zone;
        expect(new Date(2026, 5, 1).getTimezoneOffset(), zone).not.toBe(0);
        expect(answers(), zone).toEqual(inUtc);
      }
    } finally {
      process.env.TZ = "UTC";
    }
  });

  it("takes 'the day after tomorrow' out of a title as the local date", () => {
    const got = extractDueFromTitle("call mom the day after tomorrow", { now: LA_WED, tz: LA });
    expect(got?.title).toBe("call mom");
    expect(got && localParts(got.due).date).toBe("2026-06-12");
    const nz = extractDueFromTitle("call mom day after tomorrow at 6pm", { now: AUCKLAND_THU, tz: AUCKLAND });
    expect(nz?.title).toBe("call mom");
    expect(nz?.due.at.toISOString()).toBe("2026-06-13T06:00:00.000Z"); // Sat 18:00 NZST
  });

  it("refuses the day before yesterday for a new task, counted in the user's day", () => {
    expect(() => parseNewDue("the day before yesterday", { now: LA_WED, tz: LA })).toThrow(/in the past/);
    expect(parseNewDue("today", { now: LA_WED, tz: LA }).at.toISOString()).toBe("2026-06-10T07:00:00.000Z");
  });
});

describe("parseNewDue", () => {
  const berlin = { now: BERLIN_SPRING, tz: BERLIN }; // Sat 2026-03-28 21:00 in Berlin

  it.each(["yesterday", "2 weeks ago", "last friday", "2026-03-27", "2026-03-27T23:59"])(
    "refuses %j: a new task due in the past",
    (phrase) => {
      expect(() => parseNewDue(phrase, berlin)).toThrow(/is in the past .*must be today or later/);
    },
  );

  it.each(["today", "tonight", "today 9am", "2026-03-28", "2026-03-28T00:00", "in 1 hour", "every day"])(
    "accepts %j: today, even earlier today, is not the past",
    (phrase) => {
      expect(parseNewDue(phrase, berlin).at.getTime()).toBeGreaterThanOrEqual(
        dayBounds(BERLIN_SPRING, BERLIN).todayStart.getTime(),
      );
    },
  );
});

describe("extractDueFromTitle", () => {
  const berlin = { now: BERLIN_SPRING, tz: BERLIN };

  it.each([
    [
      "remind me tomorrow 5pm to call mom",
      "remind me to call mom",
      "tomorrow 5pm",
      "2026-03-29T15:00:00.000Z",
    ],
    ["next friday standup", "standup", "next friday", "date:2026-04-03"],
    ["pay rent in 2 hours", "pay rent", "in 2 hours", "2026-03-28T22:00:00.000Z"],
    ["dentist jan 27 9:30am", "dentist", "jan 27 9:30am", "2027-01-27T08:30:00.000Z"],
    ["tonight gym", "gym", "tonight", "date:2026-03-28"],
    ["call bob at 9", "call bob", "at 9", "2026-03-29T07:00:00.000Z"],
    ["submit report due friday", "submit report", "friday", "date:2026-04-03"],
    ["taxes due on april 15", "taxes", "april 15", "date:2026-04-15"],
    ["call mom on friday", "call mom", "on friday", "date:2026-04-03"],
    ["lunch at noon", "lunch", "noon", "2026-03-29T10:00:00.000Z"],
    ["call mom, tomorrow", "call mom", "tomorrow", "date:2026-03-29"],
    ["water plants every morning at 8", "water plants", "every morning at 8", "2026-03-29T06:00:00.000Z"],
    ["pay rent on the 1st of every month", "pay rent", "the 1st of every month", "date:2026-04-01"],
    ["book flights for the trip on april 3", "book flights for the trip", "april 3", "date:2026-04-03"],
    ["dentist on the 15th at 3pm", "dentist", "on the 15th at 3pm", "2026-04-15T13:00:00.000Z"],
    ["pay rent by the 1st", "pay rent", "by the 1st", "date:2026-04-01"],
  ])("%j -> %j", (input, title, phrase, expected) => {
    const got = extractDueFromTitle(input, berlin);
    expect(got?.title).toBe(title);
    expect(got?.due.phrase).toBe(phrase);
    if (expected.startsWith("date:")) {
      expect(got?.due.dateOnly).toBe(true);
      expect(got && localParts(got.due).date).toBe(expected.slice(5));
    } else {
      expect(got?.due.at.toISOString()).toBe(expected);
    }
  });

  it("'call bob at 9' in New York across spring-forward", () => {
    const got = extractDueFromTitle("call bob at 9", { now: NY_SPRING, tz: NY });
    expect(got).toMatchObject({
      title: "call bob",
      due: { at: new Date("2026-03-08T13:00:00Z"), dateOnly: false },
    });
  });

  it("strips recurrence phrases and keeps the rule", () => {
    const got = extractDueFromTitle("standup every weekday at 9:30", berlin);
    expect(got?.title).toBe("standup");
    expect(got?.due.phrase).toBe("every weekday at 9:30");
    expect(got?.due.at.toISOString()).toBe("2026-03-30T07:30:00.000Z"); // Mon 09:30 CEST
    expect(got?.due.recurrence).toContain("BYDAY=MO,TU,WE,TH,FR;BYHOUR=9;BYMINUTE=30");
    expect(extractDueFromTitle("remind me every day at 8am to take pills", berlin)?.title).toBe(
      "remind me to take pills",
    );
  });

  it.each([
    "read chapter 5",
    "buy 2 apples",
    "may I call bob",
    "meeting at home",
    "march on",
    "sat with alex",
    "mon",
    "the 3rd",
    "Henry the 8th biography",
    "take meds twice a day", // how often, not when
    "work out for 2 hours",
    "do it now",
    "call mom friday", // a bare weekday word needs "on"/"by"/"due"/"next"/"this"
    "in march plan trip",
    "daily standup notes", // "daily" as an adjective is not a recurrence
    "write weekly report",
    "book flights for march 3 trip", // a date naming a thing, not the due
    "slides for the april 9 offsite",
    "notes for friday's meeting",
  ])("no false positive for %j", (title) => {
    expect(extractDueFromTitle(title, berlin)).toBeNull();
  });

  it.each(["Meeting notes from 2 weeks ago", "what happened yesterday", "recap of last friday"])(
    "takes no past phrase from %j",
    (title) => {
      expect(extractDueFromTitle(title, berlin)).toBeNull();
    },
  );

  it("keeps the words when the title is nothing but a date", () => {
    expect(extractDueFromTitle("tomorrow 5pm", berlin)?.title).toBe("tomorrow 5pm");
  });
});

describe("localParts / describeDue", () => {
  it("shows local date, time and weekday in the due's zone", () => {
    expect(localParts({ at: new Date("2026-03-29T15:00:00Z"), tz: BERLIN })).toEqual({
      date: "2026-03-29",
      time: "17:00",
      weekday: "Sunday",
    });
    expect(localParts({ at: new Date("2026-03-08T03:30:00Z"), tz: NY })).toEqual({
      date: "2026-03-07",
      time: "22:30",
      weekday: "Saturday",
    });
  });

  it("describes timed, date-only and recurring dues", () => {
    const base = { tz: BERLIN, recurrence: null };
    expect(describeDue({ ...base, at: new Date("2026-11-23T16:00:00Z"), dateOnly: false })).toBe(
      "Mon, Nov 23, 17:00 (Europe/Berlin)",
    );
    expect(describeDue({ ...base, at: new Date("2026-04-02T22:00:00Z"), dateOnly: true })).toBe("Fri, Apr 3");
    const due = parseDue("every monday at 9", { now: new Date("2027-03-22T09:00:00Z"), tz: BERLIN });
    expect(describeDue(due)).toBe("Mon, Mar 29, 09:00 (Europe/Berlin) · every Monday at 9:00");
  });
});

describe("dayBounds", () => {
  it("2026-03-29 in Berlin is 23 hours long", () => {
    const { todayStart, tomorrowStart } = dayBounds(new Date("2026-03-29T12:00:00Z"), BERLIN);
    expect(todayStart.toISOString()).toBe("2026-03-28T23:00:00.000Z");
    expect(tomorrowStart.toISOString()).toBe("2026-03-29T22:00:00.000Z");
    expect(tomorrowStart.getTime() - todayStart.getTime()).toBe(23 * 3600_000);
  });

  it("2026-10-25 in Berlin is 25 hours long", () => {
    const { todayStart, tomorrowStart } = dayBounds(new Date("2026-10-25T12:00:00Z"), BERLIN);
    expect(tomorrowStart.getTime() - todayStart.getTime()).toBe(25 * 3600_000);
  });

  it("uses the user's day, not the UTC day", () => {
    const { todayStart } = dayBounds(new Date("2026-03-08T03:00:00Z"), NY); // Mar 7, 22:00 EST
    expect(todayStart.toISOString()).toBe("2026-03-07T05:00:00.000Z");
  });
});
