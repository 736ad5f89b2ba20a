import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type BrowserContext, chromium, type Page, type Worker } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const EXTENSION_DIR = fileURLToPath(new URL("../../.output/chrome-mv3", import.meta.url));

const DEV_PUBLIC_KEY = fileURLToPath(new URL("../../dev-public-key.txt", import.meta.url));

/**
 * Chromium's id for the built extension: its manifest carries the development key (wxt.config.ts), so the id is
 * sha256 of the key's DER bytes, the first 32 hex digits mapped to a–p — the same in every checkout.
 */
export function unpackedExtensionId(): string {
  const der = Buffer.from(readFileSync(DEV_PUBLIC_KEY, "utf8").trim(), "base64");
  const hex = createHash("sha256").update(der).digest("hex").slice(0, 32);
  return [...hex].map((c) => String.fromCharCode(97 + Number.parseInt(c, 16))).join("");
}

export type ExtensionBrowser = {
  context: BrowserContext;
  extensionId: string;
  /** The extension's service worker (evaluate chrome.* APIs in the background). */
  worker: Worker;
  /** chrome-extension://<id>/<path> */
  url(p: string): string;
  close(): Promise<void>;
};

/** A fresh Chromium profile with the built extension loaded (new headless mode, no network beyond loopback). */
export async function launchBrowser(
  opts: { colorScheme?: "light" | "dark"; width?: number } = {},
): Promise<ExtensionBrowser> {
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), "margin-e2e-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: opts.width ?? 380, height: 760 },
    colorScheme: opts.colorScheme ?? "light",
    args: [
      `--disable-extensions-except=${EXTENSION_DIR}`,
      `--load-extension=${EXTENSION_DIR}`,
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  let [worker] = context.serviceWorkers();
  worker ??= await context.waitForEvent("serviceworker", { timeout: 30_000 });
  const extensionId = new URL(worker.url()).host;
  return {
    context,
    extensionId,
    worker,
    url: (p) => `chrome-extension://${extensionId}/${p.replace(/^\//, "")}`,
    async close() {
      await context.close().catch(() => {});
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** The id Chromium gave a tab showing `url` (for `sidepanel.html?tabId=`). */
export async function tabIdOf(browser: ExtensionBrowser, url: string): Promise<number> {
  const id = await browser.worker.evaluate(async (u) => {
    const tabs = await chrome.tabs.query({});
    return tabs.find((t) => t.url === u)?.id;
  }, url);
  if (id === undefined) throw new Error(`no tab shows ${url}`);
  return id;
}

/**
 * The side panel's page in a tab of its own (Playwright cannot drive the real side panel; see sidepanel.e2e.ts
 * for that). `tabId` makes it about that tab, as the real panel is about the active one.
 */
export async function openPanel(
  browser: ExtensionBrowser,
  opts: { tabId?: number; view?: string } = {},
): Promise<Page> {
  const page = await browser.context.newPage();
  const params = new URLSearchParams();
  if (opts.tabId !== undefined) params.set("tabId", String(opts.tabId));
  if (opts.view) params.set("view", opts.view);
  await page.goto(browser.url(`sidepanel.html${params.size ? `?${params}` : ""}`));
  return page;
}
