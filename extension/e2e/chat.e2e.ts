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

  it("a confirmation card holds a bulk delete back until answered; Cancel changes nothing", async () => {
    const open = (await tasks("status=pending")).length;
    expect(open).toBeGreaterThan(0);
    await panel.getByTestId("view-chat").click();
    await send("delete all my tasks");
    const card = panel.getByRole("region", { name: "Needs your confirmation" }).last();
    await card.waitFor();
    await card.getByRole("button", { name: "Cancel" }).click();
    await panel
      .getByRole("region", { name: /^Cancelled/ })
      .last()
      .waitFor();
    expect(await tasks("status=pending")).toHaveLength(open);
  });

  it("thread history: the open chat survives a view switch; earlier chats list, rename and delete", async () => {
    await panel.getByTestId("view-chat").click();
    const title = await panel.locator("#chat-title").textContent();
    const messages = await panel.getByTestId("chat-assistant").count();
    expect(messages).toBeGreaterThan(0);
    await panel.getByTestId("view-tasks").click();
    await panel.getByTestId("view-chat").click();
    await expect.poll(() => panel.getByTestId("chat-assistant").count()).toBe(messages);

    await panel.getByTestId("chat-new").click();
    expect(await panel.getByTestId("chat-assistant").count()).toBe(0);
    await panel.getByTestId("chat-threads").click();
    const list = panel.getByTestId("chat-thread-list");
    await list.getByRole("button", { name: `Rename ${title}` }).click();
    await list.getByLabel("New name").fill("Groceries");
    await list.getByLabel("New name").press("Enter");
    await list.getByRole("button", { name: "Groceries", exact: true }).click();
    await expect.poll(() => panel.getByTestId("chat-assistant").count()).toBe(messages);
    expect(await panel.locator("#chat-title").textContent()).toBe("Groceries");

    await panel.getByTestId("chat-threads").click();
    await list.getByRole("button", { name: "Delete Groceries" }).click();
    await list.getByRole("button", { name: "Groceries", exact: true }).waitFor({ state: "detached" });
    expect(await panel.getByTestId("chat-assistant").count()).toBe(0);
  });

  it("ChatKit mode: a stand-in <openai-chatkit> gets its options, the token and page over the bridge, and the task it adds shows in the panel", async () => {
    const { browser } = env.profile;
    // What OpenAI's loader would define: records its options, calls the API through the given fetch, and
    // reports ready and the tasks.changed effect as ChatKit's events.
    const standIn = `customElements.define("openai-chatkit", class extends HTMLElement {
      async setOptions(options) {
        if (window.standIn) return;
        window.standIn = { apiUrl: options.api.url, domainKey: options.api.domainKey };
        this.dispatchEvent(new CustomEvent("chatkit.ready", { detail: {} }));
        const res = await options.api.fetch(options.api.url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ type: "threads.create", params: { input: {
            content: [{ type: "input_text", text: "add buy bread" }], attachments: [], inference_options: {} } } }),
        });
        const text = await res.text();
        window.standIn.status = res.status;
        if (text.includes("tasks.changed"))
          this.dispatchEvent(new CustomEvent("chatkit.effect", { detail: { name: "tasks.changed", data: {} } }));
      }
    });`;
    const seen: { authorization?: string; page?: unknown }[] = [];
    await browser.context.route("https://cdn.platform.openai.com/**", (route) =>
      route.fulfill({ contentType: "text/javascript", body: standIn }),
    );
    await browser.context.route(`${env.stack.gatewayUrl}/chatkit`, (route) => {
      const request = route.request();
      seen.push({
        authorization: request.headers().authorization,
        page: (request.postDataJSON() as { metadata?: { page?: unknown } }).metadata?.page,
      });
      return route.continue();
    });
    try {
      await panel.getByTestId("view-settings").click();
      await panel.getByRole("radio", { name: /^ChatKit/ }).check();
      await panel.getByTestId("view-chat").click();
      await panel.getByTestId("chatkit-frame").waitFor();
      await expect.poll(() => seen.length, { timeout: 30_000 }).toBeGreaterThan(0);
      expect(seen[0]).toEqual({
        authorization: `Bearer ${env.profile.token}`,
        page: expect.objectContaining({ url: pages.url("chat"), title: "Test article chat" }),
      });
      await expect
        .poll(async () => (await tasks()).map((t) => t.title), { timeout: 30_000 })
        .toContainEqual(expect.stringMatching(/buy bread/i));
      const frame = panel.frames().find((f) => f.url().startsWith(`${env.stack.gatewayUrl}/chatkit/panel`));
      // The answer streams on after the task is stored: wait for the stand-in to have read all of it.
      await expect
        .poll(() => frame?.evaluate(() => (window as unknown as { standIn: unknown }).standIn))
        .toEqual({ apiUrl: "/chatkit", domainKey: "domain_pk_localhost_dev", status: 200 });
      // No fallback: the frame stays, and the task it added shows in the list.
      expect(await panel.getByTestId("chat-fallback").count()).toBe(0);
      await panel.getByTestId("view-tasks").click();
      await panel.getByTestId("filter-all").click();
      await panel
        .getByTestId("task-title")
        .filter({ hasText: /buy bread/i })
        .waitFor();
    } finally {
      await browser.context.unrouteAll();
    }
  });
});
