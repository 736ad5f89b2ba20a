import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const preload = fileURLToPath(new URL("./fixed-clock.ts", import.meta.url));

describe("the screenshots' server clock", () => {
  it("starts at MARGIN_FIXED_NOW and runs on, for Date, Date.now and explicit dates alike", () => {
    const out = execFileSync(
      process.execPath,
      [
        `--import=${preload}`,
        "-e",
        `const a = Date.now(); const t = Date.now() + 50; while (Date.now() < t);
         console.log(JSON.stringify([new Date(a).toISOString(), Date.now() - a >= 50, new Date(0).toISOString(),
           new Date() instanceof Date, Date.UTC(2020, 0, 1)]))`,
      ],
      { env: { ...process.env, MARGIN_FIXED_NOW: "2026-11-25T10:00:00Z" }, encoding: "utf8" },
    );
    const [start, ran, epoch, isDate, utc] = JSON.parse(out);
    expect(Date.parse(start) - Date.parse("2026-11-25T10:00:00Z")).toBeLessThan(1_000);
    expect([ran, epoch, isDate, utc]).toEqual([true, "1970-01-01T00:00:00.000Z", true, Date.UTC(2020, 0, 1)]);
  });
});
