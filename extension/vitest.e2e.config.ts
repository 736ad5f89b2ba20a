import { defineConfig } from "vitest/config";

// End to end: the built extension in Debian Chromium against a real gateway, MCP server and Postgres.
// Run after `pnpm build`. One file at a time: each starts its own browsers and servers on a 2-core machine.
export default defineConfig({
  test: {
    include: ["e2e/**/*.e2e.ts"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    env: { TZ: "UTC" },
  },
});
