import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, openPanel, startSignedIn, startTestPages, tabIdOf } from "./harness/index.ts";

// The chat view against the real gateway and its offline model (no key, no network).
const SHOTS = fileURLToPath(new URL("../results/screenshots/", import.meta.url));
let env: Awaited<ReturnType<typeof startSignedIn>>;
let pages: Awaited<ReturnType<typeof startTestPages>>;
let panel: Page;

type TaskList = { tasks: { id: string; title: string; status: string }[] };
const tasks = (query = "status=all") =>
  api<TaskList>(env.stack.gatewayUrl, env.profile.token, `/api/tasks?${query}`).then((r) => r.tasks);

beforeAll(async () => {
  pages = await startTestPages();
  // More turns than a person types in a minute: the history test starts 32 chats.
  env = await startSignedIn({ email: "chat@example.com", env: { CHAT_TURNS_PER_MINUTE: "1000" } });
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

/** The ChatKit requests that run a turn. */
const TURNS = new Set(["threads.create", "threads.add_user_message", "threads.retry_after_item"]);

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
    // ChatKit is the default on Chrome: the gateway's shell page is framed first (seen as it navigates: with no
    // CDN here it is replaced within moments, too fast to wait for the element)…
    const framed = panel.waitForEvent("framenavigated", {
      predicate: (f) => f.url().startsWith(`${env.stack.gatewayUrl}/chatkit/panel`),
    });
    await panel.getByTestId("view-chat").click();
    expect((await framed).url()).toMatch(
      new RegExp(`^${env.stack.gatewayUrl}/chatkit/panel#nonce=[0-9a-f]{32}$`),
    );
    // …and it reports that the CDN script failed (there is no network here): the built-in chat takes over.
    await panel.getByTestId("chat-fallback").waitFor({ timeout: 30_000 });
    expect(await panel.getByTestId("chat-fallback").textContent()).toContain("ChatKit could not load");
    await panel.getByTestId("builtin-chat").waitFor();
  });

  it("ChatKit mode falls back, and says so, when ChatKit loads but never becomes ready", async () => {
    const { browser } = env.profile;
    // A stand-in that defines <openai-chatkit> but never reports ready (a broken release, a refused domain key).
    const standIn = `customElements.define("openai-chatkit", class extends HTMLElement { setOptions() {} });`;
    await browser.context.route("https://cdn.platform.openai.com/**", (route) =>
      route.fulfill({ contentType: "text/javascript", body: standIn }),
    );
    try {
      await panel.getByTestId("view-tasks").click();
      await panel.getByTestId("view-chat").click();
      await panel.getByTestId("chatkit-frame").waitFor();
      const frame = () =>
        panel.frames().find((f) => f.url().startsWith(`${env.stack.gatewayUrl}/chatkit/panel`));
      // The script did load: the shell page has the element, so no script error ends the wait early.
      await expect
        .poll(() => frame()?.evaluate(() => !!customElements.get("openai-chatkit")), { timeout: 30_000 })
        .toBe(true);
      expect(await panel.getByTestId("chat-fallback").count()).toBe(0);
      // The panel's own ready timeout (20 s) switches to the built-in chat and names the reason.
      await panel.getByTestId("chat-fallback").waitFor({ timeout: 40_000 });
      expect(await panel.getByTestId("chat-fallback").textContent()).toBe(
        "ChatKit could not load: it did not start within 20 s. This is Margin's built-in chat.",
      );
      await panel.getByTestId("builtin-chat").waitFor();
      expect(await panel.getByTestId("chatkit-frame").count()).toBe(0);
    } finally {
      await browser.context.unrouteAll();
    }
  });

  it("built-in mode: a message adds a task, which appears in the panel's list", async () => {
    await panel.getByTestId("view-settings").click();
    await panel.getByRole("radio", { name: "Built-in", exact: true }).check();
    await panel.getByTestId("view-chat").click();
    await panel.getByTestId("builtin-chat").waitFor();
    expect(await panel.getByTestId("chat-fallback").count()).toBe(0);

    await send("add call mom tomorrow 5pm");
    expect((await tasks()).map((t) => t.title)).toContainEqual(expect.stringMatching(/call mom/i));
    // Said as a person would: no ids, ISO dates or notes meant for the model.
    const answer = await panel.getByTestId("chat-assistant").last().textContent();
    expect(answer).toMatch(/^Margin: Added “call mom” · due tomorrow 5:00\sPM\.$/);
    // A message that is only a task adds it as typed, with no question first.
    await send("oat milk");
    expect((await tasks()).map((t) => t.title)).toContain("oat milk");
    expect(await panel.getByRole("region", { name: "Needs your confirmation" }).count()).toBe(0);
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
    // The list shows once, as the widget; the answer above it only counts what it holds.
    expect(await panel.getByTestId("chat-assistant").last().textContent()).toMatch(
      /^Margin: \d+ open tasks?(, \d+ (overdue|due today))*\.$/,
    );

    // For a look after a run (git ignores results/; the committed pictures come from `pnpm screenshots`).
    mkdirSync(SHOTS, { recursive: true });
    await panel.screenshot({ path: `${SHOTS}chat-widget.png` });

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
    await expect.poll(() => panel.getByTestId("chat-assistant").count()).toBe(0);
    await panel.getByTestId("chat-threads").click();
    const list = panel.getByTestId("chat-thread-list");
    await list.getByRole("button", { name: `Rename ${title}` }).click();
    await list.getByLabel("New name").fill("Groceries");
    await list.getByLabel("New name").press("Enter");
    await list.getByRole("button", { name: "Groceries", exact: true }).click();
    await expect.poll(() => panel.getByTestId("chat-assistant").count()).toBe(messages);
    await expect.poll(() => panel.locator("#chat-title").textContent()).toBe("Groceries");

    // Renaming the open chat renames its header too.
    await panel.getByTestId("chat-threads").click();
    await list.getByRole("button", { name: "Rename Groceries" }).click();
    await list.getByLabel("New name").fill("Weekend groceries");
    await list.getByLabel("New name").press("Enter");
    await list.getByRole("button", { name: "Weekend groceries", exact: true }).waitFor();
    await expect.poll(() => panel.locator("#chat-title").textContent()).toBe("Weekend groceries");

    await list.getByRole("button", { name: "Delete Weekend groceries" }).click();
    await list.getByRole("button", { name: "Weekend groceries", exact: true }).waitFor({ state: "detached" });
    await expect.poll(() => panel.getByTestId("chat-assistant").count()).toBe(0);
  });

  it("Retry after a server error (HTTP 500) sends the message that failed, which stayed on screen", async () => {
    const { browser } = env.profile;
    const sent: string[] = [];
    let failed = false;
    await browser.context.route(`${env.stack.gatewayUrl}/chatkit`, (route) => {
      const { type } = route.request().postDataJSON() as { type: string };
      if (TURNS.has(type)) sent.push(type);
      if (!failed && (type === "threads.create" || type === "threads.add_user_message")) {
        failed = true;
        return route.fulfill({
          status: 500,
          contentType: "application/json",
          body: JSON.stringify({ error: { code: "internal", message: "Something went wrong on our side." } }),
        });
      }
      return route.continue();
    });
    try {
      await panel.getByTestId("view-chat").click();
      await panel.getByTestId("chat-new").click();
      await panel.getByTestId("chat-input").fill("add pay the rent friday");
      await panel.getByTestId("chat-input").press("Enter");
      await panel.getByTestId("chat-error").waitFor();
      expect(await panel.getByTestId("chat-error").textContent()).toContain(
        "Something went wrong on our side.",
      );
      // The message is not lost: it stays in the log, marked unsent, and nothing reached the server.
      expect(await panel.getByTestId("chat-unsent").textContent()).toContain("add pay the rent friday");
      expect((await tasks()).filter((t) => /pay the rent/i.test(t.title))).toEqual([]);

      await panel.getByTestId("chat-retry").click();
      await panel.getByTestId("chat-assistant").first().waitFor();
      await panel.getByTestId("chat-send").waitFor();
      expect(sent).toEqual(["threads.create", "threads.create"]);
      expect(await panel.getByTestId("chat-error").count()).toBe(0);
      expect(await panel.getByTestId("chat-unsent").count()).toBe(0);
      expect(await panel.getByTestId("chat-user").allTextContents()).toEqual([
        expect.stringContaining("add pay the rent friday"),
      ]);
      expect((await tasks()).filter((t) => /pay the rent/i.test(t.title))).toHaveLength(1);
    } finally {
      await browser.context.unrouteAll();
    }
  });

  it("Retry after an error event answers the stored message again (threads.retry_after_item)", async () => {
    const { browser } = env.profile;
    const sent: string[] = [];
    let cut = false;
    // The real answer, cut after the server stored the user's message and ended with a retryable error event.
    await browser.context.route(`${env.stack.gatewayUrl}/chatkit`, async (route) => {
      const { type } = route.request().postDataJSON() as { type: string };
      if (TURNS.has(type)) sent.push(type);
      if (cut || type !== "threads.add_user_message") return route.continue();
      cut = true;
      const response = await route.fetch();
      const events = (await response.text())
        .split("\n\n")
        .flatMap((block) => block.split("\n").filter((l) => l.startsWith("data: ")))
        .map((line) => JSON.parse(line.slice(6)) as { type: string; item?: { type: string } });
      const stored = events.findIndex(
        (e) => e.type === "thread.item.done" && e.item?.type === "user_message",
      );
      expect(stored).toBeGreaterThanOrEqual(0);
      const body = [
        ...events.slice(0, stored + 1),
        { type: "error", code: "stream.error", message: "The answer was cut off.", allow_retry: true },
      ]
        .map((e) => `data: ${JSON.stringify(e)}\n\n`)
        .join("");
      return route.fulfill({ response, body });
    });
    try {
      await panel.getByTestId("view-chat").click();
      const before = await panel.getByTestId("chat-assistant").count();
      expect(before).toBeGreaterThan(0); // the thread of the previous test
      await panel.getByTestId("chat-input").fill("what's due today?");
      await panel.getByTestId("chat-input").press("Enter");
      await panel.getByTestId("chat-error").filter({ hasText: "The answer was cut off." }).waitFor();
      await panel.getByTestId("chat-user").filter({ hasText: "what's due today?" }).waitFor();
      expect(await panel.getByTestId("chat-assistant").count()).toBe(before);

      await panel.getByTestId("chat-retry").click();
      await panel.getByTestId("chat-assistant").nth(before).waitFor();
      await panel.getByTestId("chat-send").waitFor();
      expect(sent).toEqual(["threads.add_user_message", "threads.retry_after_item"]);
      expect(await panel.getByTestId("chat-error").count()).toBe(0);
      expect(await panel.getByTestId("chat-user").filter({ hasText: "what's due today?" }).count()).toBe(1);
      // The thread as the server keeps it: the message once, answered once.
      await panel.getByTestId("view-tasks").click();
      await panel.getByTestId("view-chat").click();
      await expect.poll(() => panel.getByTestId("chat-assistant").count()).toBe(before + 1);
      expect(await panel.getByTestId("chat-user").filter({ hasText: "what's due today?" }).count()).toBe(1);
    } finally {
      await browser.context.unrouteAll();
    }
  });

  it('the start prompt "Make tasks from my selection" turns the selected lines into tasks', async () => {
    const { browser } = env.profile;
    const list = await browser.context.newPage();
    await list.goto(pages.listUrl("chores"));
    const listPanel = await openPanel(browser, { tabId: await tabIdOf(browser, pages.listUrl("chores")) });
    try {
      await listPanel.getByTestId("page-title").filter({ hasText: "Test list chores" }).waitFor();
      await listPanel.getByTestId("view-chat").click();
      await listPanel.getByTestId("chat-new").click();
      // Offered only while text is selected.
      expect(await listPanel.getByTestId("chat-selection-prompt").count()).toBe(0);
      await list.evaluate(() => {
        const range = document.createRange();
        range.selectNodeContents(document.getElementById("todo")!);
        getSelection()!.removeAllRanges();
        getSelection()!.addRange(range);
      });
      await listPanel.getByTestId("page-selection").filter({ hasText: "Book the dentist" }).waitFor();
      await listPanel.getByTestId("chat-selection-prompt").click();
      await listPanel.getByTestId("chat-user").filter({ hasText: "Make tasks from my selection" }).waitFor();
      await listPanel.getByTestId("chat-assistant").first().waitFor();
      await listPanel.getByTestId("chat-send").waitFor();
      const titles = (await tasks()).map((t) => t.title);
      for (const title of ["Buy stamps", "Email Ana", "Book the dentist"]) expect(titles).toContain(title);
      await listPanel.getByTestId("view-tasks").click();
      await listPanel.getByTestId("filter-all").click();
      for (const title of ["Buy stamps", "Email Ana", "Book the dentist"])
        await listPanel.getByTestId("task-title").filter({ hasText: title }).waitFor();
    } finally {
      await listPanel.close();
      await list.close();
    }
  });

  it("the tasks.changed effect refreshes the list on its own, with the live stream blocked", async () => {
    const { browser } = env.profile;
    const blocked = () => panel.getByTestId("offline-banner");
    await browser.context.route(`${env.stack.gatewayUrl}/api/changes`, (route) => route.abort());
    try {
      // Drop the open stream (as a network change would): every reconnect is refused from now on.
      await panel.evaluate(() => window.dispatchEvent(new Event("online")));
      await blocked().waitFor();
      await panel.getByTestId("view-chat").click();
      await send("add renew the passport");
      expect((await tasks()).map((t) => t.title)).toContainEqual(
        expect.stringMatching(/renew the passport/i),
      );
      await panel.getByTestId("view-tasks").click();
      await panel.getByTestId("filter-all").click();
      await panel
        .getByTestId("task-title")
        .filter({ hasText: /renew the passport/i })
        .waitFor();
      // It came over REST: the stream was down all along.
      expect(await blocked().isVisible()).toBe(true);
    } finally {
      await browser.context.unrouteAll();
      await panel.evaluate(() => window.dispatchEvent(new Event("online")));
    }
    await blocked().waitFor({ state: "detached" });
  });

  it("history shows the latest 30 chats and pages back with Show more; a chat on a later page renames and opens", async () => {
    // Started through the API, one turn each, as another device would.
    for (let n = 1; n <= 32; n++) {
      const res = await fetch(`${env.stack.gatewayUrl}/chatkit`, {
        method: "POST",
        headers: { authorization: `Bearer ${env.profile.token}`, "content-type": "application/json" },
        body: JSON.stringify({
          type: "threads.create",
          params: {
            input: {
              content: [{ type: "input_text", text: `Old chat ${String(n).padStart(2, "0")}` }],
              attachments: [],
              inference_options: {},
            },
          },
        }),
      });
      expect(res.status).toBe(200);
      await res.text();
    }
    let total = 0;
    for (let after: string | undefined, more = true; more; ) {
      const page = await api<{ data: { id: string }[]; has_more: boolean; after?: string }>(
        env.stack.gatewayUrl,
        env.profile.token,
        "/chatkit",
        { method: "POST", body: JSON.stringify({ type: "threads.list", params: { limit: 100, after } }) },
      );
      total += page.data.length;
      [after, more] = [page.after, page.has_more];
    }
    expect(total).toBeGreaterThan(32);
    expect(total).toBeLessThanOrEqual(60);

    await panel.getByTestId("view-chat").click();
    await panel.getByTestId("chat-threads").click();
    const list = panel.getByTestId("chat-thread-list");
    const rows = list.locator(":scope > li");
    const chat = (name: string) => list.getByRole("button", { name, exact: true });
    await chat("Old chat 32").waitFor();
    expect(await rows.count()).toBe(30);
    expect(await chat("Old chat 02").count()).toBe(0);

    await panel.getByTestId("chat-threads-more").click();
    await chat("Old chat 01").waitFor();
    expect(await rows.count()).toBe(total);
    const names = await rows.locator("button:first-child").allTextContents();
    expect(new Set(names).size).toBe(names.length);
    // The last page says so: no more to show.
    expect(await panel.getByTestId("chat-threads-more").count()).toBe(0);

    await list.getByRole("button", { name: "Rename Old chat 01" }).click();
    await list.getByLabel("New name").fill("The oldest chat");
    await list.getByLabel("New name").press("Enter");
    await chat("The oldest chat").waitFor();
    expect(await rows.count()).toBe(total); // renamed in place, not folded back to the first page
    await chat("The oldest chat").click();
    await panel.locator("#chat-title").filter({ hasText: "The oldest chat" }).waitFor();
    await panel.getByTestId("chat-user").filter({ hasText: "Old chat 01" }).waitFor();
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
    const seen: { type: string; authorization?: string; page?: unknown }[] = [];
    await browser.context.route("https://cdn.platform.openai.com/**", (route) =>
      route.fulfill({ contentType: "text/javascript", body: standIn }),
    );
    await browser.context.route(`${env.stack.gatewayUrl}/chatkit`, (route) => {
      const request = route.request();
      const body = request.postDataJSON() as { type: string; metadata?: { page?: unknown } };
      seen.push({
        type: body.type,
        authorization: request.headers().authorization,
        page: body.metadata?.page,
      });
      return route.continue();
    });
    try {
      await panel.getByTestId("view-settings").click();
      await panel.getByRole("radio", { name: /^ChatKit/ }).check();
      await panel.getByTestId("view-chat").click();
      await panel.getByTestId("chatkit-frame").waitFor();
      // The stand-in's turn (the built-in chat may read its open thread first, if the view opened before the
      // new chat mode was stored).
      const turn = () => seen.find((s) => s.type === "threads.create");
      await expect.poll(turn, { timeout: 30_000 }).toBeDefined();
      expect(turn()).toEqual({
        type: "threads.create",
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

describe("times in the chat", () => {
  it("read as in the panel's list, in the built-in chat's widget and in ChatKit's frame", async () => {
    const { browser } = env.profile;
    await api(env.stack.gatewayUrl, env.profile.token, "/api/tasks", {
      method: "POST",
      body: JSON.stringify({ title: "Dinner with Ada", due: "tomorrow 7:30pm" }),
    });
    await panel.getByTestId("view-settings").click();
    await panel.getByRole("radio", { name: "Built-in", exact: true }).check();
    await panel.getByTestId("view-tasks").click();
    await panel.getByTestId("filter-all").click();
    const due = await panel
      .getByTestId("task")
      .filter({ hasText: "Dinner with Ada" })
      .getByTestId("task-due")
      .textContent();
    // This browser's locale (Chromium's en-US here) says "7:30 PM"; whatever it says, the chat must say it too.
    const time = due!.match(/^Tomorrow (.+)$/)![1]!;

    await panel.getByTestId("view-chat").click();
    await send("show my tasks");
    const row = panel.locator(".widget-row").filter({ hasText: "Dinner with Ada" }).last();
    expect(await row.locator(".widget-badge").textContent()).toBe(`tomorrow ${time}`);

    // ChatKit draws the same widget JSON: a stand-in for its script lists the tasks through the frame's fetch.
    const standIn = `customElements.define("openai-chatkit", class extends HTMLElement {
      async setOptions(options) {
        if (window.standIn) return;
        window.standIn = {};
        this.dispatchEvent(new CustomEvent("chatkit.ready", { detail: {} }));
        const res = await options.api.fetch(options.api.url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ type: "threads.create", params: { input: {
            content: [{ type: "input_text", text: "show my tasks" }], attachments: [], inference_options: {} } } }),
        });
        window.standIn.text = await res.text();
      }
    });`;
    await browser.context.route("https://cdn.platform.openai.com/**", (route) =>
      route.fulfill({ contentType: "text/javascript", body: standIn }),
    );
    try {
      await panel.getByTestId("view-settings").click();
      await panel.getByRole("radio", { name: /^ChatKit/ }).check();
      await panel.getByTestId("view-chat").click();
      await panel.getByTestId("chatkit-frame").waitFor();
      const frame = () =>
        panel.frames().find((f) => f.url().startsWith(`${env.stack.gatewayUrl}/chatkit/panel`));
      const answer = () =>
        frame()?.evaluate(() => (window as unknown as { standIn?: { text?: string } }).standIn?.text);
      await expect.poll(answer, { timeout: 30_000 }).toContain("Dinner with Ada");
      expect(await answer()).toContain(`"label":"tomorrow ${time}"`);
    } finally {
      await browser.context.unrouteAll();
    }
  });
});
