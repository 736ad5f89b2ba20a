import { describe, expect, it } from "vitest";
import { memoize } from "./memo.ts";

describe("memoize", () => {
  it("computes each key once, and again only after it was evicted as the oldest", () => {
    const computed: string[] = [];
    const upper = memoize((key) => {
      computed.push(key);
      return key.toUpperCase();
    }, 2);
    expect([upper("a"), upper("b"), upper("a")]).toEqual(["A", "B", "A"]);
    expect(computed).toEqual(["a", "b"]);
    upper("c"); // evicts "a", the oldest
    expect([upper("b"), upper("a")]).toEqual(["B", "A"]);
    expect(computed).toEqual(["a", "b", "c", "a"]);
  });
});
