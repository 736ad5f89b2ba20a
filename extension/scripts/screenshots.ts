// `pnpm --filter @margin/extension screenshots` (builds first): every view of the panel, light and dark, as the
// committed pictures in docs/screenshots/. The built extension in headless Debian Chromium against the real stack
// (gateway + MCP server + Postgres, offline model), like the e2e tests. The pictures change only when the UI
// does: the server's and the panel's clocks read FIXED_NOW, the server runs at the panel's default address
// (http://localhost:8787, so `pnpm start` must not be running), the browser in UTC and US English.
//   --widths 320,400   other panel widths (file names then carry the width)
//   --out DIR          somewhere else than docs/screenshots/ (e.g. results/, which git ignores)
import { once } from "node:events";
import { mkdirSync } from "node:fs";
import { createServer } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { Page } from "playwright-core";
import { api, launchBrowser, openPanel, startSignedIn, tabIdOf } from "../e2e/harness/index.ts";

const { values } = parseArgs({
  options: { widths: { type: "string", default: "360" }, out: { type: "string" } },
});
const WIDTHS = values.widths.split(",").map(Number);
const OUT = path.resolve(values.out ?? fileURLToPath(new URL("../../docs/screenshots/", import.meta.url)));
const HEIGHT = 720;
/** A Wednesday morning: "today", "Tue" and "Fri" in the pictures are always these days. */
const FIXED_NOW = "2026-11-25T10:00:00Z";
// Chromium reads its zone and locale from the environment it starts in.
process.env.TZ = "UTC";
process.env.LANG = "en_US.UTF-8";
process.env.LANGUAGE = "en_US";

/** Shoots what the panel shows now, at each width, in light and dark. */
async function shoot(panel: Page, view: string) {
  // No focus ring left on the last control clicked: the picture shows the view at rest.
  await panel.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  for (const width of WIDTHS) {
    await panel.setViewportSize({ width, height: HEIGHT });
    for (const scheme of ["light", "dark"] as const) {
      await panel.emulateMedia({ colorScheme: scheme });
      await panel.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      const name = WIDTHS.length > 1 ? `${view}-${width}-${scheme}` : `${view}-${scheme}`;
      await panel.screenshot({ path: path.join(OUT, `${name}.png`) });
    }
  }
  console.log(`${view}: done`);
}

/** A page to be on while the panel is open (the page card shows it). */
async function startArticle() {
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(`<!doctype html><html lang="en"><head><title>Notes in the margin: how readers talk back</title></head>
<body><article><h1>Notes in the margin</h1><p>${"Readers have always written back to their books. ".repeat(30)}</p>
</article></body></html>`);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/notes-in-the-margin`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

mkdirSync(OUT, { recursive: true });
const article = await startArticle();
const signedOut = await launchBrowser();
const env = await startSignedIn({
  email: "ada@example.com",
  defaultPorts: true,
  env: {
    NODE_OPTIONS: `--import=${fileURLToPath(new URL("./fixed-clock.ts", import.meta.url))}`,
    MARGIN_FIXED_NOW: FIXED_NOW,
    // Chats dated FIXED_NOW would look idle to the hourly retention sweep, which runs 30 s after start.
    CHAT_RETENTION_DAYS: "0",
  },
}).catch(async (err: unknown) => {
  await signedOut.close();
  await article.close();
  throw err;
});
try {
  const panelOut = await openPanel(signedOut);
  await panelOut.getByTestId("sign-in-button").waitFor();
  await shoot(panelOut, "signed-out");

  const { browser, token } = env.profile;
  await env.profile.panel.close();
  await browser.context.clock.setFixedTime(new Date(FIXED_NOW));
  const tab = await browser.context.newPage();
  await tab.goto(article.url);
  const panel = await openPanel(browser, { tabId: await tabIdOf(browser, article.url) });
  await panel.getByTestId("page-title").waitFor();
  await panel.getByTestId("filter-all").click();
  await panel.getByTestId("tasks-empty").waitFor();
  await shoot(panel, "tasks-empty");

  const add = (body: Record<string, unknown>) =>
    api(env.stack.gatewayUrl, token, "/api/tasks", { method: "POST", body: JSON.stringify(body) });
  await add({ title: "Send the quarterly report", due: "today 12:01am", priority: "high" });
  await add({ title: "Call mom", due: "today 11:59pm" });
  await add({ title: "Weekly review", due: "every friday at 4pm" });
  await add({
    title: "Read: Notes in the margin",
    notes: "Readers have always written back to their books.",
    source: { url: article.url, title: "Notes in the margin: how readers talk back" },
  });
  await add({ title: "Book the dentist", due: "next tuesday" });
  await add({ title: "Learn the cello", priority: "low" });
  await panel.getByTestId("task").nth(5).waitFor();
  await shoot(panel, "tasks-full");

  // The built-in chat: ChatKit's script cannot load here (no network), and its fallback notice is not the view.
  await panel.getByTestId("view-settings").click();
  await panel.getByRole("radio", { name: "Built-in", exact: true }).check();
  await panel.getByTestId("view-chat").click();
  for (const text of ["add water the plants tomorrow 9am", "show my tasks"]) {
    const answers = await panel.getByTestId("chat-assistant").count();
    await panel.getByTestId("chat-input").fill(text);
    await panel.getByTestId("chat-input").press("Enter");
    await panel.getByTestId("chat-assistant").nth(answers).waitFor();
    await panel.getByTestId("chat-send").waitFor();
  }
  await shoot(panel, "chat");

  await panel.getByTestId("view-settings").click();
  await panel.getByTestId("account-email").waitFor();
  await shoot(panel, "settings");
} finally {
  await signedOut.close();
  await env.close();
  await article.close();
}
