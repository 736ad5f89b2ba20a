import { defineConfig } from "vitest/config";

// The suite runs twice: against the local Postgres server and against embedded PGlite.
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    // As the servers run (package.json scripts, Dockerfile): AsyncLocalStorage without per-promise hooks.
    execArgv: ["--experimental-async-context-frame"],
    env: { TZ: "UTC" },
    projects: [
      { extends: true, test: { name: "postgres", env: { TEST_DB: "postgres", TZ: "UTC" } } },
      { extends: true, test: { name: "pglite", env: { TEST_DB: "pglite", TZ: "UTC" } } },
    ],
  },
});
