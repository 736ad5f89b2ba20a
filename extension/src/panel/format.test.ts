import { describe, expect, it } from "vitest";
import { formatRepeat } from "./format.ts";

describe("repeat rules in the panel", () => {
  it("say their times as the panel's locale says times", () => {
    expect(formatRepeat("every Friday at 16:00", "en-US")).toBe("every Friday at 4:00 PM");
    expect(formatRepeat("every weekday at 9:05", "en-GB")).toBe("every weekday at 9:05");
    expect(formatRepeat("every 2 weeks", "en-US")).toBe("every 2 weeks");
  });
});
