import { describe, expect, it } from "vitest";
import { instructionsFor } from "../../src/agent/instructions.ts";

const nowLine = (timezone: string, iso: string) =>
  instructionsFor({ timezone, now: new Date(iso) }).match(/^Now: .*$/m)?.[0];

describe("instructions", () => {
  it("name each zone's own local minute, as it turns", () => {
    // 23:30 UTC on Saturday is 12:30 on Sunday in Auckland (UTC+13 in November), 00:30 in Berlin.
    expect(nowLine("Pacific/Auckland", "2026-11-28T23:30:00Z")).toBe(
      "Now: Sunday 2026-11-29 12:30, time zone Pacific/Auckland.",
    );
    expect(nowLine("Pacific/Auckland", "2026-11-28T23:30:59Z")).toContain("2026-11-29 12:30,");
    expect(nowLine("Europe/Berlin", "2026-11-28T23:30:30Z")).toBe(
      "Now: Sunday 2026-11-29 00:30, time zone Europe/Berlin.",
    );
    expect(nowLine("Pacific/Auckland", "2026-11-28T23:31:00Z")).toContain("2026-11-29 12:31,");
    // An earlier minute asked again (a turn with a clock of its own) is not answered from a later one.
    expect(nowLine("Pacific/Auckland", "2026-11-28T23:30:10Z")).toContain("2026-11-29 12:30,");
    expect(nowLine("America/New_York", "2026-11-29T04:59:00Z")).toBe(
      "Now: Saturday 2026-11-28 23:59, time zone America/New_York.",
    );
  });

  it("tell the model the list shows as a checklist, so its answer counts instead of repeating it", () => {
    const text = instructionsFor({ timezone: "Europe/Berlin", now: new Date() });
    expect(text).toContain("The user sees each list_tasks result as a checklist under your answer");
    expect(text).toContain("never ISO");
  });
});
