import { defineConfig } from "vitest/config";
import { WxtVitest } from "wxt/testing/vitest-plugin";

export default defineConfig({
  plugins: [WxtVitest()],
  // Vitest drops WxtVitest's import.meta.env defines; restate what the code reads (as strings).
  define: { "import.meta.env.BROWSER": JSON.stringify("chrome"), "import.meta.env.MANIFEST_VERSION": "3" },
  test: { include: ["src/**/*.test.ts", "scripts/**/*.test.ts"], env: { TZ: "UTC" } },
});
