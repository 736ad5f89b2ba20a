import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The ChatKit shell page, served by the gateway at /chatkit/panel (src/http/panel-page.ts reads dist/).
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/chatkit/panel/",
  plugins: [react()],
  logLevel: "warn",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // The strict CSP allows no inline script, so nothing may be inlined into index.html.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
});
