import { describe, expect, it } from "vitest";
import { generateId } from "../../src/chatkit/store.ts";

describe("item and thread ids", () => {
  it("carry their kind's prefix and 96 fresh random bits each, across refills of the random pool", () => {
    const ids = Array.from({ length: 2_000 }, (_, i) => generateId(i % 2 ? "message" : "thread"));
    expect(ids[0]).toMatch(/^thr_[0-9a-f]{24}$/);
    expect(ids[1]).toMatch(/^msg_[0-9a-f]{24}$/);
    expect(new Set(ids.map((id) => id.slice(4))).size).toBe(ids.length);
  });
});
