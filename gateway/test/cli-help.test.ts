import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { commandList } from "../src/cli.ts";
import { EnvSchema, loadConfig } from "../src/config.ts";
import { startSummary } from "../src/terminal.ts";

describe("margin commands' configuration", () => {
  it("lists, across its commands, every variable the configuration reads", () => {
    const listed = new Set(commandList.flatMap((c) => [...c.env, ...c.secrets]));
    const unlisted = Object.keys(EnvSchema.shape).filter((name) => !listed.has(name as never));
    expect(unlisted).toEqual([]);
  });

  it("needs no secret for migrate, the token secret alone for mcp, both for the servers together", () => {
    const secrets = Object.fromEntries(commandList.map((c) => [c.name, [...c.secrets].sort()]));
    expect(secrets).toMatchObject({
      migrate: [],
      "user show": [],
      mcp: ["MCP_TOKEN_SECRET"],
      "mcp-token": ["MCP_TOKEN_SECRET"],
      "user create": ["BETTER_AUTH_SECRET"],
      start: ["BETTER_AUTH_SECRET", "MCP_TOKEN_SECRET"],
      gateway: ["BETTER_AUTH_SECRET", "MCP_TOKEN_SECRET"],
    });
  });

  it("generates and keeps only the secrets asked for", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "margin-config-"));
    try {
      const none = loadConfig({ DATA_DIR: dir }, { secrets: [] });
      expect(none).not.toHaveProperty("mcpTokenSecret");
      expect(readdirSync(dir)).toEqual([]);
      const mcp = loadConfig({ DATA_DIR: dir }, { secrets: ["MCP_TOKEN_SECRET"] });
      expect(mcp).not.toHaveProperty("betterAuthSecret");
      const both = loadConfig({ DATA_DIR: dir });
      expect(both.mcpTokenSecret).toBe(mcp.mcpTokenSecret);
      expect(both.betterAuthSecret).toHaveLength(43);
      expect(() =>
        loadConfig({ DATABASE_URL: "postgres://h/db" }, { secrets: ["BETTER_AUTH_SECRET"] }),
      ).toThrow(/^Invalid configuration:\n {2}BETTER_AUTH_SECRET: required when DATABASE_URL is set/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("moves MCP_URL with MCP_PORT unless MCP_URL is set", () => {
    const env = { DATABASE_URL: "postgres://h/db" };
    expect(loadConfig({ ...env, MCP_PORT: "9911" }, { secrets: [] }).mcpUrl.href).toBe(
      "http://127.0.0.1:9911/mcp",
    );
    expect(
      loadConfig({ ...env, MCP_PORT: "9911", MCP_URL: "https://mcp.example.com/mcp" }, { secrets: [] }).mcpUrl
        .href,
    ).toBe("https://mcp.example.com/mcp");
  });

  it("logs pretty and only warnings at a terminal, JSON at info elsewhere, unless told", () => {
    const env = { DATABASE_URL: "postgres://h/db" };
    const at = (extra: Record<string, string>, terminal: boolean) => {
      const c = loadConfig({ ...env, ...extra }, { secrets: [], terminal });
      return [c.logFormat, c.logLevel];
    };
    expect(at({}, true)).toEqual(["pretty", "warn"]);
    expect(at({}, false)).toEqual(["json", "info"]);
    expect(at({ LOG_FORMAT: "json", LOG_LEVEL: "debug" }, true)).toEqual(["json", "debug"]);
    expect(() => at({ LOG_FORMAT: "xml" }, false)).toThrow(/LOG_FORMAT/);
  });

  it("summarises a start: where things are, the folders to load, the first user, the model", () => {
    const base = {
      gatewayUrl: new URL("http://127.0.0.1:8787"),
      mcpUrl: new URL("http://127.0.0.1:8788/mcp"),
      database: { kind: "pglite" as const, dir: "/srv/margin/.data/pglite" },
      model: "offline (no model key set)",
    };
    const text = startSummary({
      ...base,
      extension: { chrome: "/m/extension/.output/chrome-mv3", firefox: "/m/extension/.output/firefox-mv2" },
    });
    expect(text).toContain("Gateway     http://127.0.0.1:8787\n");
    expect(text).toContain("MCP server  http://127.0.0.1:8788/mcp\n");
    expect(text).toContain("embedded (PGlite) in /srv/margin/.data/pglite");
    expect(text).toContain("Load unpacked → /m/extension/.output/chrome-mv3\n");
    expect(text).toContain("Load Temporary Add-on → /m/extension/.output/firefox-mv2/manifest.json\n");
    expect(text).toContain("pnpm margin user create --email you@example.com");
    expect(text).toContain("Model       offline (no model key set)");
    expect(text.split("\n").length).toBeLessThan(25);
    const servers = startSummary({
      ...base,
      database: { kind: "postgres", url: "postgres://margin:secret@db.internal:5432/margin" },
      extension: undefined,
    });
    expect(servers).toContain("Postgres at db.internal:5432/margin");
    expect(servers).not.toContain("secret");
    expect(servers).toMatch(/extension is not built/);
  });
});
