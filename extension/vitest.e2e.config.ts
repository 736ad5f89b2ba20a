import { defineConfig } from "vitest/config";

// End to end: the built extension in Debian Chromium against a real gateway, MCP server and database. Run after
// `pnpm build`. One file at a time: each starts its own browsers and servers on a 2-core machine. The panel's
// data paths run on Postgres and again on embedded PGlite (the self-hoster's default); views and lint once.
export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    // expect.poll's own default (1 s) is shorter than a busy 2-core machine takes to load a chat.
    expect: { poll: { timeout: 15_000 } },
    env: { TZ: "UTC" },
    projects: [
      {
        extends: true,
        test: { name: "postgres", include: ["e2e/**/*.e2e.ts"], env: { TZ: "UTC", E2E_DB: "postgres" } },
      },
      {
        extends: true,
        test: { name: "pglite", include: ["e2e/panel.e2e.ts"], env: { TZ: "UTC", E2E_DB: "pglite" } },
      },
    ],
  },
});
