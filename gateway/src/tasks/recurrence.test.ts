import { describe, expect, it } from "vitest";
import { describeRecurrence, nextOccurrence, parseRecurrence } from "./recurrence.ts";

const BERLIN = "Europe/Berlin";
const MON_22_MAR_1000 = new Date("2027-03-22T09:00:00Z"); // Mon 2027-03-22 10:00 CET; EU DST starts 2027-03-28
const berlin = { now: MON_22_MAR_1000, tz: BERLIN };

function rruleOf(text: string, opts = berlin): string | undefined {
  return parseRecurrence(text, opts)?.rule.split("\n")[1];
}

describe("parseRecurrence", () => {
  it.each([
    ["every monday at 9", "RRULE:FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0;BYSECOND=0"],
    ["every weekday", "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"],
    ["every 2 weeks", "RRULE:FREQ=WEEKLY;INTERVAL=2"],
    ["every day at 8am", "RRULE:FREQ=DAILY;BYHOUR=8;BYMINUTE=0;BYSECOND=0"],
    ["daily", "RRULE:FREQ=DAILY"],
    ["weekly", "RRULE:FREQ=WEEKLY"],
    ["every month on the 15th", "RRULE:FREQ=MONTHLY;BYMONTHDAY=15"],
    ["every year", "RRULE:FREQ=YEARLY"],
    ["every other tuesday", "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"],
    ["every mon, wed and fri at 7pm", "RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;BYHOUR=19;BYMINUTE=0;BYSECOND=0"],
    ["every 3 days at noon", "RRULE:FREQ=DAILY;INTERVAL=3;BYHOUR=12;BYMINUTE=0;BYSECOND=0"],
    ["at 9:30 every day", "RRULE:FREQ=DAILY;BYHOUR=9;BYMINUTE=30;BYSECOND=0"],
    ["every 15th", "RRULE:FREQ=MONTHLY;BYMONTHDAY=15"],
    ["every morning", "RRULE:FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0"],
    ["every morning at 8", "RRULE:FREQ=DAILY;BYHOUR=8;BYMINUTE=0;BYSECOND=0"],
    ["every evening", "RRULE:FREQ=DAILY;BYHOUR=19;BYMINUTE=0;BYSECOND=0"],
    ["every evening at 8", "RRULE:FREQ=DAILY;BYHOUR=20;BYMINUTE=0;BYSECOND=0"],
    ["every night at 10:30", "RRULE:FREQ=DAILY;BYHOUR=22;BYMINUTE=30;BYSECOND=0"],
    ["every afternoon at 2am", "RRULE:FREQ=DAILY;BYHOUR=2;BYMINUTE=0;BYSECOND=0"],
    ["the 1st of every month", "RRULE:FREQ=MONTHLY;BYMONTHDAY=1"],
    ["every other evening", "RRULE:FREQ=DAILY;INTERVAL=2;BYHOUR=19;BYMINUTE=0;BYSECOND=0"],
    ["every year on march 3", "RRULE:FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=3"],
    [
      "every year on the 14th of february at 8pm",
      "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=14;BYHOUR=20;BYMINUTE=0;BYSECOND=0",
    ],
    ["yearly on 29 feb", "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29"],
    ["on the 15th of each month at 9", "RRULE:FREQ=MONTHLY;BYMONTHDAY=15;BYHOUR=9;BYMINUTE=0;BYSECOND=0"],
  ])("%j -> %s", (text, rrule) => {
    expect(rruleOf(text)).toBe(rrule);
  });

  it("returns the matched text so callers can strip it", () => {
    const r = parseRecurrence("Standup Every Weekday at 9:30 sharp", berlin);
    expect(r?.text).toBe("Every Weekday at 9:30");
    expect(r?.dateOnly).toBe(false);
  });

  it("'every monday at 9' on a Monday at 10:00 starts next Monday, stored with TZID", () => {
    const r = parseRecurrence("every monday at 9", berlin);
    expect(r?.first.toISOString()).toBe("2027-03-29T07:00:00.000Z"); // 09:00 CEST
    expect(r?.rule).toBe(
      "DTSTART;TZID=Europe/Berlin:20270329T090000\nRRULE:FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0;BYSECOND=0",
    );
  });

  it("a time still ahead today starts today", () => {
    const r = parseRecurrence("every monday at 11", berlin);
    expect(r?.first.toISOString()).toBe("2027-03-22T10:00:00.000Z");
  });

  it("without a time the rule is date-only and starts today at local midnight", () => {
    const r = parseRecurrence("every 2 weeks", berlin);
    expect(r).toMatchObject({ dateOnly: true, first: new Date("2027-03-21T23:00:00Z") });
    expect(r?.rule.split("\n")[0]).toBe("DTSTART;TZID=Europe/Berlin:20270322T000000");
  });

  it("'every month on the 15th' starts on the next 15th", () => {
    expect(parseRecurrence("every month on the 15th", berlin)?.first.toISOString()).toBe(
      "2027-04-14T22:00:00.000Z",
    );
  });

  it.each([
    "call mom",
    "every time I call",
    "daily standup notes",
    "write weekly report",
    "review every",
    "everything at 9",
  ])("no recurrence in %j", (text) => {
    expect(parseRecurrence(text, berlin)).toBeNull();
  });
});

describe("nextOccurrence", () => {
  it("'every monday at 9' in Berlin keeps 09:00 local across the 2027-03-28 change", () => {
    const rule =
      parseRecurrence("every monday at 9", { now: new Date("2027-03-01T06:00:00Z"), tz: BERLIN })?.rule ?? "";
    expect(nextOccurrence(rule, new Date("2027-03-20T00:00:00Z"))?.toISOString()).toBe(
      "2027-03-22T08:00:00.000Z",
    ); // CET
    expect(nextOccurrence(rule, new Date("2027-03-22T09:00:00Z"))?.toISOString()).toBe(
      "2027-03-29T07:00:00.000Z",
    ); // CEST
  });

  it("is strictly after `after`", () => {
    const rule =
      "DTSTART;TZID=Europe/Berlin:20270301T090000\nRRULE:FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0;BYSECOND=0";
    expect(nextOccurrence(rule, new Date("2027-03-22T08:00:00Z"))?.toISOString()).toBe(
      "2027-03-29T07:00:00.000Z",
    );
    expect(nextOccurrence(rule, new Date("2027-03-22T07:59:59Z"))?.toISOString()).toBe(
      "2027-03-22T08:00:00.000Z",
    );
  });

  it("'every weekday' skips the weekend", () => {
    const rule = parseRecurrence("every weekday at 9", berlin)?.rule ?? "";
    const fri = nextOccurrence(rule, new Date("2027-03-25T09:00:00Z")); // after Thu 09:00
    expect(fri?.toISOString()).toBe("2027-03-26T08:00:00.000Z"); // Fri 09:00 CET
    expect(fri && nextOccurrence(rule, fri)?.toISOString()).toBe("2027-03-29T07:00:00.000Z"); // Mon 09:00 CEST
  });

  it("'every 2 weeks' steps 14 days from its start", () => {
    const rule = parseRecurrence("every 2 weeks", berlin)?.rule ?? "";
    const first = new Date("2027-03-21T23:00:00Z");
    expect(nextOccurrence(rule, first)?.toISOString()).toBe("2027-04-04T22:00:00.000Z"); // Apr 5 00:00 CEST
  });

  it("monthly on the 31st skips short months (RFC 5545)", () => {
    const rule =
      "DTSTART;TZID=Europe/Berlin:20270131T090000\nRRULE:FREQ=MONTHLY;BYMONTHDAY=31;BYHOUR=9;BYMINUTE=0;BYSECOND=0";
    expect(nextOccurrence(rule, new Date("2027-02-01T00:00:00Z"))?.toISOString()).toBe(
      "2027-03-31T07:00:00.000Z",
    );
  });

  it("'every year on march 3' comes back each March 3", () => {
    const rule = parseRecurrence("every year on march 3", berlin)!.rule;
    expect(nextOccurrence(rule, new Date("2027-03-22T09:00:00Z"))?.toISOString()).toBe(
      "2028-03-02T23:00:00.000Z",
    );
  });

  it("'every month on the 15th'", () => {
    const rule = parseRecurrence("every month on the 15th", berlin)?.rule ?? "";
    expect(nextOccurrence(rule, new Date("2027-04-15T00:00:00Z"))?.toISOString()).toBe(
      "2027-05-14T22:00:00.000Z",
    );
  });

  it("returns null once a COUNT rule has ended", () => {
    const rule = "DTSTART;TZID=Europe/Berlin:20270301T090000\nRRULE:FREQ=DAILY;COUNT=3";
    expect(nextOccurrence(rule, new Date("2027-03-02T09:00:00Z"))?.toISOString()).toBe(
      "2027-03-03T08:00:00.000Z",
    );
    expect(nextOccurrence(rule, new Date("2027-03-03T08:00:00Z"))).toBeNull();
  });

  it("honours UNTIL as an instant", () => {
    const rule = "DTSTART;TZID=Europe/Berlin:20270301T090000\nRRULE:FREQ=DAILY;UNTIL=20270303T080000Z";
    expect(nextOccurrence(rule, new Date("2027-03-02T09:00:00Z"))?.toISOString()).toBe(
      "2027-03-03T08:00:00.000Z",
    );
    expect(nextOccurrence(rule, new Date("2027-03-03T08:00:00Z"))).toBeNull();
  });

  it("a daily reminder at a nonexistent local time moves to the next valid time instead of skipping the day", () => {
    // rrule-temporal alone drops 2027-03-14 02:30 New York (RFC 5545); we evaluate wall-clock and resolve 'compatible'
    const rule =
      "DTSTART;TZID=America/New_York:20270312T023000\nRRULE:FREQ=DAILY;BYHOUR=2;BYMINUTE=30;BYSECOND=0";
    expect(nextOccurrence(rule, new Date("2027-03-13T08:00:00Z"))?.toISOString()).toBe(
      "2027-03-14T07:30:00.000Z",
    ); // 03:30 EDT
    expect(nextOccurrence(rule, new Date("2027-03-14T07:30:00Z"))?.toISOString()).toBe(
      "2027-03-15T06:30:00.000Z",
    ); // 02:30 EDT
  });

  it("an ambiguous local time (fall-back) fires once, at the earlier instant", () => {
    const rule = "DTSTART;TZID=America/New_York:20261030T013000\nRRULE:FREQ=DAILY";
    const first = nextOccurrence(rule, new Date("2026-10-31T12:00:00Z"));
    expect(first?.toISOString()).toBe("2026-11-01T05:30:00.000Z"); // 01:30 EDT
    expect(first && nextOccurrence(rule, first)?.toISOString()).toBe("2026-11-02T06:30:00.000Z"); // not 06:30Z on Nov 1
  });
});

describe("describeRecurrence", () => {
  it.each([
    ["every monday at 9", "every Monday at 9:00"],
    ["every weekday", "every weekday"],
    ["every 2 weeks", "every 2 weeks"],
    ["every day at 8am", "every day at 8:00"],
    ["daily", "every day"],
    ["every month on the 15th", "every month on the 15th"],
    ["every year", "every year"],
    ["every other tuesday", "every 2 weeks on Tuesday"],
    ["every mon, wed and fri at 7pm", "every Monday, Wednesday and Friday at 19:00"],
    ["every weekday at 9:30", "every weekday at 9:30"],
    ["every year on march 3", "every year on March 3"],
    ["every morning", "every day at 9:00"],
  ])("%j -> %j", (text, summary) => {
    expect(describeRecurrence(parseRecurrence(text, berlin)?.rule ?? "")).toBe(summary);
  });

  it("mentions COUNT and UNTIL", () => {
    expect(describeRecurrence("DTSTART;TZID=Europe/Berlin:20270301T090000\nRRULE:FREQ=DAILY;COUNT=3")).toBe(
      "every day at 9:00, 3 times",
    );
    expect(
      describeRecurrence(
        "DTSTART;TZID=Europe/Berlin:20270301T000000\nRRULE:FREQ=WEEKLY;UNTIL=20270601T000000Z",
      ),
    ).toBe("every week, until 2027-06-01");
  });
});
