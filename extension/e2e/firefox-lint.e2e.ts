import path from "node:path";
import { fileURLToPath } from "node:url";
import linter from "addons-linter";
import { describe, expect, it } from "vitest";

const FIREFOX_BUILD = fileURLToPath(new URL("../.output/firefox-mv2", import.meta.url));

describe("Firefox build", () => {
  it("passes Mozilla's addons-linter with no errors", async () => {
    const instance = linter.createInstance({
      config: {
        _: [path.resolve(FIREFOX_BUILD)],
        logLevel: "fatal",
        stack: false,
        pretty: false,
        warningsAsErrors: false,
        metadata: false,
        output: "none",
        boring: true,
        selfHosted: false,
        privileged: false,
      },
      runAsBinary: false,
    });
    const report = await instance.run();
    expect(report.errors.map((e) => `${e.code}: ${e.message} (${e.file})`)).toEqual([]);
    // The manifest itself is clean; what remains are bundled libraries' patterns (React, zod).
    expect(report.warnings.filter((w) => w.file === "manifest.json" && !w.code.includes("ANDROID"))).toEqual(
      [],
    );
  });
});
