import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BuildError, buildIfStale, CHATKIT_PAGE, EXTENSION, type FrontEnd } from "../src/builds.ts";

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), "margin-builds-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** A front end whose "build" counts its runs and writes its output, like a real one. */
const counting: FrontEnd = {
  name: "the test page",
  inputs: ["app/src", "app/config.ts"],
  sourceMarker: "app/src",
  outputs: ["app/out/index.html"],
  stamp: "app/out/.sources-hash",
  command: [
    process.execPath,
    "-e",
    `const fs = require("node:fs"); fs.mkdirSync("app/out", { recursive: true });
     fs.writeFileSync("app/out/index.html", "built"); fs.appendFileSync("runs", "x");`,
  ],
};
const runs = () => readFileSync(path.join(root, "runs"), "utf8").length;
const write = (file: string, text: string) => {
  mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  writeFileSync(path.join(root, file), text);
};

describe("front-end builds at start", () => {
  it("builds once, skips while the sources are unchanged, and rebuilds when they change", async () => {
    write("app/src/main.ts", "export {}");
    write("app/config.ts", "export default {}");
    expect(await buildIfStale(counting, { root })).toBe("built");
    expect(await buildIfStale(counting, { root })).toBe("up to date");
    // A unit test is not part of what ships.
    write("app/src/main.test.ts", "test");
    expect(await buildIfStale(counting, { root })).toBe("up to date");
    write("app/config.ts", "export default { changed: true }");
    const announced: string[] = [];
    expect(await buildIfStale(counting, { root, onBuild: (f) => announced.push(f.name) })).toBe("built");
    expect(announced).toEqual(["the test page"]);
    // An output removed by hand is rebuilt even though the sources are the same.
    rmSync(path.join(root, "app/out/index.html"));
    expect(await buildIfStale(counting, { root })).toBe("built");
    expect(runs()).toBe(3);
  });

  it("has nothing to build without sources (the Docker image ships only the built page)", async () => {
    expect(await buildIfStale(counting, { root })).toBe("no sources");
    expect(await buildIfStale(EXTENSION, { root })).toBe("no sources");
    expect(await buildIfStale(CHATKIT_PAGE, { root })).toBe("no sources");
  });

  it("runs one build at a time for concurrent starts", async () => {
    write("app/src/main.ts", "export {}");
    const outcomes = await Promise.all([buildIfStale(counting, { root }), buildIfStale(counting, { root })]);
    expect(outcomes.sort()).toEqual(["built", "up to date"]);
    expect(runs()).toBe(1);
  });

  it("says which build failed, shows its last lines and how to skip it", async () => {
    write("app/src/main.ts", "export {}");
    const failing = {
      ...counting,
      command: [process.execPath, "-e", 'console.error("src/main.ts(1,1): error TS1005"); process.exit(1)'],
      skipFlag: "--no-test-page",
    };
    const error = await buildIfStale(failing, { root }).catch((e) => e);
    expect(error).toBeInstanceOf(BuildError);
    expect(error.message).toMatch(
      /^building the test page failed \(`.*`\):\nsrc\/main.ts\(1,1\): error TS1005\n/,
    );
    expect(error.message).toMatch(/`pnpm start --no-test-page`/);
  });
});
