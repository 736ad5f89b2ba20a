import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "vite";

/** Builds gateway/web (the ChatKit shell page) from the current sources into a fresh directory. */
export async function buildShellPage(): Promise<string> {
  const outDir = await mkdtemp(path.join(tmpdir(), "margin-panel-"));
  await build({
    configFile: fileURLToPath(new URL("../../../web/vite.config.ts", import.meta.url)),
    build: { outDir, emptyOutDir: true },
    logLevel: "warn",
  });
  return outDir;
}
