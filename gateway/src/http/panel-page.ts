// GET /chatkit/panel: the ChatKit shell page the side panel embeds (built from gateway/web by `pnpm build`).
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import express, { type Router } from "express";

/** OpenAI's ChatKit loader; it defines <openai-chatkit>, which renders in a frame from the same host. */
export const CHATKIT_SCRIPT_URL = "https://cdn.platform.openai.com/deployments/chatkit/chatkit.js";
const CHATKIT_ORIGIN = new URL(CHATKIT_SCRIPT_URL).origin;
/** ChatKit wants a domain key even where none is checked (localhost); OpenAI's samples pass any placeholder. */
export const LOCALHOST_DOMAIN_KEY = "domain_pk_localhost_dev";
export const DEFAULT_PANEL_DIR = fileURLToPath(new URL("../../web/dist/", import.meta.url));
const CONFIG_SLOT = "<!--margin-config-->";

export type PanelPageOptions = {
  publicUrl: URL;
  extensionOrigins: string[];
  chatkitDomainKey?: string;
  /** The built page (vite's outDir). */
  dir?: string;
  /** How long the page waits for ChatKit's script before telling the panel to use its built-in chat. */
  loadTimeoutMs?: number;
};

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** The key ChatKit is given: the configured one, a placeholder on localhost, otherwise none (ChatKit is off). */
export function chatkitDomainKey(publicUrl: URL, configured: string | undefined): string | null {
  return configured ?? (LOOPBACK.has(publicUrl.hostname) ? LOCALHOST_DOMAIN_KEY : null);
}

/**
 * Only what ChatKit needs: its loader script and frame from OpenAI's CDN, this gateway for the API
 * (ChatKit's custom fetch runs in this page), and nothing else. Styles may be inline because the loader sizes
 * its element at run time; styles cannot run code. Only the extension may frame the page: the listed origins,
 * and Firefox's per-install moz-extension origins, which the bridge's nonce then has to vouch for.
 */
export function panelPageCsp(extensionOrigins: string[]): string {
  return [
    "default-src 'none'",
    `script-src 'self' ${CHATKIT_ORIGIN}`,
    `frame-src ${CHATKIT_ORIGIN}`,
    "connect-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${[...extensionOrigins, "moz-extension:"].join(" ")}`,
  ].join("; ");
}

const escapeJson = (value: unknown) =>
  JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");

export function createPanelPageRouter(opts: PanelPageOptions): Router {
  const dir = opts.dir ?? DEFAULT_PANEL_DIR;
  const config = {
    apiUrl: "/chatkit",
    domainKey: chatkitDomainKey(opts.publicUrl, opts.chatkitDomainKey),
    scriptUrl: CHATKIT_SCRIPT_URL,
    parentOrigins: opts.extensionOrigins,
    loadTimeoutMs: opts.loadTimeoutMs ?? 15_000,
  };
  const headers = {
    "Content-Security-Policy": panelPageCsp(opts.extensionOrigins),
    "Cache-Control": "no-cache",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Content-Type-Options": "nosniff",
  };
  let page: Promise<string> | undefined;
  const render = async () => {
    const html = await readFile(path.join(dir, "index.html"), "utf8");
    return html.replace(
      CONFIG_SLOT,
      `<script type="application/json" id="margin-config">${escapeJson(config)}</script>`,
    );
  };

  const router = express.Router();
  router.get("/chatkit/panel", async (_req, res, next) => {
    page ??= render();
    let html: string;
    try {
      html = await page;
    } catch (error) {
      page = undefined; // built later: try again on the next request
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") return next(error);
      res
        .status(503)
        .set({ ...headers, "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" })
        .send("The chat page is not built. Run `pnpm --filter @margin/gateway build`, then reload.\n");
      return;
    }
    res.status(200).set(headers).type("html").send(html);
  });
  router.use(
    "/chatkit/panel/assets",
    express.static(path.join(dir, "assets"), { index: false, immutable: true, maxAge: "365d" }),
  );
  return router;
}
