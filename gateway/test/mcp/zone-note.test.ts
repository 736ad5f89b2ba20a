import { describe, expect, it } from "vitest";
import { zoneNote } from "../../src/mcp-server/tool.ts";
import type { UserTasks } from "../../src/tasks/repository.ts";

const note = (tz: string, at: string) =>
  zoneNote({ owner: { id: "u", tz }, clock: () => new Date(at) } as unknown as UserTasks);

describe("zoneNote", () => {
  it("names the local date at every instant, across midnights, DST and zones asked in turn", () => {
    const cases: [string, string, string][] = [
      ["Europe/Berlin", "2026-11-28T22:59:59.999Z", "Sat 2026-11-28"],
      ["Europe/Berlin", "2026-11-28T23:00:00.000Z", "Sun 2026-11-29"],
      ["Pacific/Auckland", "2026-11-28T23:00:00.000Z", "Sun 2026-11-29"],
      ["Europe/Berlin", "2026-11-28T12:00:00.000Z", "Sat 2026-11-28"],
      ["Pacific/Auckland", "2026-11-28T10:59:59.999Z", "Sat 2026-11-28"],
      ["Pacific/Auckland", "2026-11-28T11:00:00.000Z", "Sun 2026-11-29"],
      // New York's spring-forward day is 23 hours long.
      ["America/New_York", "2026-03-08T04:59:59.999Z", "Sat 2026-03-07"],
      ["America/New_York", "2026-03-08T05:00:00.000Z", "Sun 2026-03-08"],
      ["America/New_York", "2026-03-09T03:59:59.999Z", "Sun 2026-03-08"],
      ["America/New_York", "2026-03-09T04:00:00.000Z", "Mon 2026-03-09"],
      ["America/New_York", "2026-03-08T12:00:00.000Z", "Sun 2026-03-08"],
    ];
    for (const [tz, at, day] of cases)
      expect(note(tz, at), `${tz} ${at}`).toBe(`Today is ${day}; times are ${tz}.`);
  });
});
