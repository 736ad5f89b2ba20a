import { describe, expect, it } from "vitest";
import { DEFAULT_LOCALE, requestLocale } from "../../src/chatkit/locale.ts";
import { widgetRoot } from "../../src/chatkit/types.ts";
import { dueLabel, taskListWidget, taskRow } from "../../src/chatkit/widgets.ts";

const clock = (zone: string) => ({ zone, locale: DEFAULT_LOCALE });

// Friday 2026-11-27 22:30 UTC: already Saturday in Tokyo, still Friday afternoon in New York.
const now = new Date("2026-11-27T22:30:00Z");
const due = (at: string, dateOnly = false, date = at.slice(0, 10)) => ({
  at,
  date,
  time: null,
  date_only: dateOnly,
});

describe("due labels in the user's zone", () => {
  it.each([
    ["Europe/Berlin", due("2026-11-28T16:00:00Z"), "tomorrow 17:00", false],
    ["Asia/Tokyo", due("2026-11-28T16:00:00Z"), "tomorrow 1:00", false],
    ["America/New_York", due("2026-11-28T16:00:00Z"), "tomorrow 11:00", false],
    ["Asia/Tokyo", due("2026-11-28T00:00:00Z", true), "today", false],
    ["Europe/Berlin", due("2026-11-27T08:00:00Z"), "today 9:00", true],
    ["Europe/Berlin", due("2026-11-26T08:00:00Z", true), "yesterday", true],
    ["Europe/Berlin", due("2026-12-02T08:00:00Z"), "Wed 9:00", false],
    ["Europe/Berlin", due("2026-12-24T00:00:00Z", true), "24 Dec", false],
    ["Europe/Berlin", due("2027-01-05T00:00:00Z", true), "5 Jan 2027", false],
  ])("%s: %j → %s", (zone, d, text, overdue) => {
    expect(dueLabel(d, { zone, locale: DEFAULT_LOCALE }, now)).toEqual({ text, overdue });
  });

  // Times as the panel shows them: the same Intl options, in the locale (hour cycle included) the panel sent.
  it.each([
    ["en-US-u-hc-h12", due("2026-11-28T16:00:00Z"), "tomorrow 5:00 PM"],
    ["en-US-u-hc-h23", due("2026-11-28T16:00:00Z"), "tomorrow 17:00"],
    ["en-GB-u-hc-h12", due("2026-11-27T08:00:00Z"), "today 9:00 am"],
    ["en-US", due("2026-12-02T08:00:00Z"), "Wed 9:00 AM"],
    ["en-US", due("2026-12-24T00:00:00Z", true), "Dec 24"],
    ["de-DE", due("2026-12-24T17:30:00Z"), "24. Dez. 18:30"],
  ])("%s: %j → %s", (locale, d, text) => {
    expect(dueLabel(d, { zone: "Europe/Berlin", locale }, now).text).toBe(text);
  });
});

describe("the request's locale", () => {
  it.each([
    ["en-US-u-hc-h12", [], "en-US-u-hc-h12"],
    [undefined, ["fr-CA", "en"], "fr-CA"],
    [undefined, ["*"], DEFAULT_LOCALE],
    ["not a locale!", ["de"], "de"],
    [42, [], DEFAULT_LOCALE],
    ["x".repeat(200), [], DEFAULT_LOCALE],
  ])("metadata %j, Accept-Language %j → %s", (metadata, accepted, locale) => {
    expect(requestLocale(metadata, accepted)).toBe(locale);
  });
});

describe("task rows", () => {
  const task = { id: "t1", title: "Buy milk", status: "pending" as const, due: due("2026-11-27T08:00:00Z") };

  it("shows an open task with its checkbox unticked, an overdue badge and a delete button", () => {
    const row = taskRow(task, clock("Europe/Berlin"), now);
    expect(row.key).toBe("t1");
    expect(row.children).toMatchObject([
      {
        type: "Checkbox",
        defaultChecked: false,
        onChangeAction: { type: "task.toggle", payload: { task_id: "t1" }, streaming: false },
      },
      { type: "Text", value: "Buy milk", lineThrough: false },
      { type: "Badge", label: "today 9:00", color: "danger" },
      { type: "Button", onClickAction: { type: "task.delete", payload: { task_id: "t1" }, streaming: true } },
    ]);
  });

  it("strikes through a done task and offers undo for a trashed one", () => {
    expect(taskRow({ ...task, status: "completed" }, clock("UTC"), now).children).toMatchObject([
      { type: "Checkbox", defaultChecked: true },
      { type: "Text", lineThrough: true, color: "secondary" },
      { type: "Button" },
    ]);
    const trashed = taskRow({ ...task, status: "deleted" }, clock("UTC"), now).children as {
      type: string;
      label?: string;
      disabled?: boolean;
    }[];
    expect(trashed[0]!.disabled).toBe(true);
    expect(trashed.map((c) => c.label).filter(Boolean)).toEqual(["Deleted", "Undo"]);
  });

  it("builds a ListView the protocol schema accepts, with a copyable text", () => {
    const { widget, copyText } = taskListWidget(
      [task, { ...task, id: "t2", title: "Call mum", due: null }],
      clock("Europe/Berlin"),
      now,
    );
    expect(widgetRoot.safeParse(widget).success).toBe(true);
    expect(copyText).toBe("- [ ] Buy milk (due today 9:00)\n- [ ] Call mum");
  });
});
