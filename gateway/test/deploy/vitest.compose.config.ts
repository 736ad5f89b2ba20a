import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// `pnpm test:compose`: the compose file on a real Docker engine. Kept out of the normal suite (its name is not
// *.test.ts), since it builds images; the root `pnpm test` runs it on its own.
export default defineConfig({
  root: fileURLToPath(new URL("../..", import.meta.url)),
  test: {
    include: ["test/deploy/compose.e2e.ts"],
    // Cold: the stand-in base images and the project's image are built once (~6 min on 2 busy cores).
    testTimeout: 15 * 60_000,
    hookTimeout: 15 * 60_000,
    env: { TZ: "UTC" },
  },
});
