import { describe, expect, it } from "vitest";
import { ApiError, describeError, GatewayUnreachableError, isRetryable } from "./errors.ts";

describe("errors", () => {
  it("retries what can heal by itself, not what the server refused", () => {
    expect(isRetryable(new GatewayUnreachableError("down"))).toBe(true);
    for (const status of [401, 408, 429, 500, 502, 503])
      expect(isRetryable(new ApiError(status, "x", "x"))).toBe(true);
    for (const status of [400, 403, 404, 413, 422])
      expect(isRetryable(new ApiError(status, "x", "x"))).toBe(false);
  });

  it("tells a person what happened and what to do", () => {
    expect(describeError(new GatewayUnreachableError("ECONNREFUSED"))).toMatch(
      /Can't reach the Margin server/,
    );
    expect(describeError(new ApiError(401, "unauthorized", "x"))).toMatch(/expired\. Sign in again/);
    expect(describeError(new ApiError(403, "FORBIDDEN", "Invalid origin"))).toMatch(/EXTENSION_ORIGINS/);
    expect(describeError(new ApiError(400, "invalid_input", "title: at most 500 characters"))).toBe(
      "title: at most 500 characters",
    );
  });
});
