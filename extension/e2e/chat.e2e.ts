import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, openPanel, startSignedIn, startTestPages, tabIdOf } from "./harness/index.ts";

// The chat view against the real gateway and its offline model (no key, no network).
const DOCS = fileURLToPath(new URL("../../docs/", import.meta.url));
let env: Awaited<ReturnType<typeof startSignedIn>>;
let pages: Awaited<ReturnType<typeof startTestPages>>;
let panel: Page;

type TaskList = { tasks: { id: string; title: string; status: string }[] };
const tasks = (query = "status=all") =>
  api<TaskList>(env.stack.gatewayUrl, env.profile.token, `/api/tasks?${query}`).then((r) => r.tasks);

beforeAll(async () => {
  pages = await startTestPages();
  env = await startSignedIn({ email: "chat@example.com" });
  const { browser } = env.profile;
  const page = await browser.context.newPage();
  await page.goto(pages.url("chat"));
  panel = await openPanel(browser, { tabId: await tabIdOf(browser, pages.url("chat")) });
  await panel.getByTestId("page-title").filter({ hasText: "Test article chat" }).waitFor();
});
afterAll(async () => {
  await env?.close();
  await pages?.close();
});

async function send(text: string) {
  const before = await panel.getByTestId("chat-assistant").count();
  await panel.getByTestId("chat-input").fill(text);
  await panel.getByTestId("chat-input").press("Enter");
  await panel.getByTestId("chat-assistant").nth(before).waitFor();
  // The turn is over when the composer offers Send again.
  await panel.getByTestId("chat-send").waitFor();
}

describe("the chat view", () => {
  it("ChatKit mode falls back to the built-in chat when ChatKit's script cannot load", async () => {
    await panel.getByTestId("view-chat").click();
    // ChatKit is the default on Chrome: the gateway's shell page is framed first…
    const frame = panel.getByTestId("chatkit-frame");
    await frame.waitFor({ state: "attached" });
    expect(await frame.getAttribute("src")).toMatch(
      new RegExp(`^${env.stack.gatewayUrl}/chatkit/panel#nonce=[0-9a-f]{32}$`),
    );
    // …and it reports that the CDN script failed (there is no network here): the built-in chat takes over.
    await panel.getByTestId("chat-fallback").waitFor({ timeout: 30_000 });
    expect(await panel.getByTestId("chat-fallback").textContent()).toContain("ChatKit could not load");
    await panel.getByTestId("builtin-chat").waitFor();
  });

  it("built-in mode: a message adds a task, which appears in the panel's list", async () => {
    await panel.getByTestId("view-settings").click();
    await panel.getByRole("radio", { name: "Built-in", exact: true }).check();
    await panel.getByTestId("view-chat").click();
    await panel.getByTestId("builtin-chat").waitFor();
    expect(await panel.getByTestId("chat-fallback").count()).toBe(0);

    await send("add call mom tomorrow 5pm");
    expect((await tasks()).map((t) => t.title)).toContainEqual(expect.stringMatching(/call mom/i));
    await panel.getByTestId("view-tasks").click();
    await panel.getByTestId("filter-all").click();
    await panel
      .getByTestId("task-title")
      .filter({ hasText: /call mom/i })
      .waitFor();
  });

  it("a task-list widget's checkbox completes the task", async () => {
    await api(env.stack.gatewayUrl, env.profile.token, "/api/tasks", {
      method: "POST",
      body: JSON.stringify({ title: "Water the plants", due: "today 11:59pm" }),
    });
    await panel.getByTestId("view-chat").click();
    await send("show my tasks");
    const box = panel.getByRole("checkbox", { name: "Done: Water the plants" }).last();
    await box.waitFor();

    // The screenshot for the README: the panel with the page card, the chat and a task list in it.
    mkdirSync(DOCS, { recursive: true });
    await panel.screenshot({ path: `${DOCS}panel.png` });

    await box.check();
    await expect
      .poll(async () => (await tasks()).find((t) => t.title === "Water the plants")?.status)
      .toBe("completed");
    await panel.getByTestId("view-tasks").click();
    await panel.getByTestId("filter-done").click();
    await panel.getByTestId("task-title").filter({ hasText: "Water the plants" }).waitFor();
  });
});
