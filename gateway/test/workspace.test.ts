import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));

describe("workspace", () => {
  // Two zod copies break schema types across packages (MCP SDK, better-auth, agents).
  it("installs exactly one copy of zod", () => {
    const copies = readdirSync(`${root}node_modules/.pnpm`).filter((name) => /^zod@\d/.test(name));
    expect(copies).toHaveLength(1);
    expect(copies[0]).toMatch(/^zod@4\./);
  });

  it("targets Node 22 LTS", () => {
    expect(readFileSync(`${root}.nvmrc`, "utf8").trim()).toBe("22");
    expect(JSON.parse(readFileSync(`${root}package.json`, "utf8")).engines.node).toMatch(/22/);
    expect(process.versions.node.split(".")[0]).toBe("22");
  });
});
