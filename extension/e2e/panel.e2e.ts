import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Task } from "../src/api/schemas.ts";
import {
  api,
  openPanel,
  type SignedInPanel,
  signInThroughPanel,
  startSignedIn,
  startTestPages,
  tabIdOf,
} from "./harness/index.ts";

let env: Awaited<ReturnType<typeof startSignedIn>>;
let pages: Awaited<ReturnType<typeof startTestPages>>;
let a: SignedInPanel;

const listTasks = async (token = a.token, query = "status=all") =>
  (await api<{ tasks: Task[] }>(env.stack.gatewayUrl, token, `/api/tasks?${query}&limit=200`)).tasks;

/** Polls until `check` passes (the machine is loaded: no tight timing). */
async function until<T>(check: () => Promise<T | undefined | false>, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}\n${env.stack.logs().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Opens a test page in profile `p`, selects its quote, and opens the panel about that tab. */
async function pageWithSelection(p: SignedInPanel, n: number): Promise<{ page: Page; panel: Page }> {
  const page = await p.browser.context.newPage();
  await page.goto(pages.url(n));
  await page.evaluate(() => {
    const range = document.createRange();
    range.selectNodeContents(document.getElementById("quote")!);
    getSelection()!.removeAllRanges();
    getSelection()!.addRange(range);
  });
  const panel = await openPanel(p.browser, { tabId: await tabIdOf(p.browser, pages.url(n)) });
  return { page, panel };
}

beforeAll(async () => {
  pages = await startTestPages();
  env = await startSignedIn({ email: "reader@example.com" });
  a = env.profile;
});
afterAll(async () => {
  await env?.close();
  await pages?.close();
});

describe("the side panel against the real stack", () => {
  it("signs in through the device flow: the token works and the account's zone is the browser's", async () => {
    const me = await fetch(`${env.stack.gatewayUrl}/api/auth/get-session`, {
      headers: { authorization: `Bearer ${a.token}` },
    }).then((r) => r.json());
    expect(me.user.email).toBe("reader@example.com");
    expect(me.user.timezone).toBe("UTC");
    // The token is in local storage, never in sync storage.
    const synced = await a.browser.worker.evaluate(() => chrome.storage.sync.get(null));
    expect(JSON.stringify(synced)).not.toContain(a.token);
  });

  it("saves the page with its selection from the panel; a second profile sees it appear live", async () => {
    const b = await env.addProfile();
    const bPanel = b.panel;
    await bPanel.getByTestId("filter-all").click();

    const { panel } = await pageWithSelection(a, 1);
    await panel.getByTestId("page-title").filter({ hasText: "Test article 1" }).waitFor();
    await panel
      .getByTestId("page-selection")
      .filter({ hasText: "Margins are where the reader talks back" })
      .waitFor();
    await panel.getByTestId("save-page").click();
    await panel.getByTestId("toast").filter({ hasText: "Saved" }).waitFor();

    const [task] = await until(async () => {
      const ts = await listTasks();
      return ts.length === 1 && ts;
    }, "the captured task");
    expect(task).toMatchObject({
      title: "Test article 1",
      notes: "Margins are where the reader talks back to the text.",
      source: { url: pages.url(1), title: "Test article 1" },
    });
    expect(task!.source!.excerpt).toContain("readable text about notes in the margin");

    // In the panel: the task with its source link; on the other profile, live, without reload.
    await panel.getByTestId("filter-all").click();
    const row = panel.locator(`[data-task-id="${task!.id}"]`);
    await row.waitFor();
    expect(await row.getByTestId("task-source").getAttribute("href")).toBe(pages.url(1));
    await bPanel.locator(`[data-task-id="${task!.id}"]`).waitFor({ timeout: 15_000 });
    await panel.close();
  });

  it("the page card follows tab switches and selection changes", async () => {
    const first = await a.browser.context.newPage();
    await first.goto(pages.url("one"));
    const panel = await openPanel(a.browser);
    const second = await a.browser.context.newPage();
    await second.goto(pages.url("two"));
    await second.bringToFront();
    await panel.getByTestId("page-title").filter({ hasText: "Test article two" }).waitFor();
    await first.bringToFront();
    await panel.getByTestId("page-title").filter({ hasText: "Test article one" }).waitFor();
    await first.evaluate(() => {
      const range = document.createRange();
      range.selectNodeContents(document.querySelector("h1")!);
      getSelection()!.removeAllRanges();
      getSelection()!.addRange(range);
    });
    await panel.getByTestId("page-selection").filter({ hasText: "Test article one" }).waitFor();
    await Promise.all([first.close(), second.close(), panel.close()]);
  });

  it("a page no extension may read still saves, with title and address, and says why there is no excerpt", async () => {
    const page = await a.browser.context.newPage();
    await page.goto("chrome://version/");
    const panel = await openPanel(a.browser, { tabId: await tabIdOf(a.browser, "chrome://version/") });
    await panel.getByTestId("page-unreadable").filter({ hasText: "Browser pages" }).waitFor();
    await panel.getByTestId("save-page").click();
    const task = await until(
      async () => (await listTasks()).find((t) => t.notes === "chrome://version/"),
      "the saved browser page",
    );
    expect(task.source).toBeNull();
    await Promise.all([page.close(), panel.close()]);
  });

  it("quick-add previews the due date as a chip, and Enter saves the task with it", async () => {
    const panel = await openPanel(a.browser);
    await panel.getByTestId("quick-add").fill("Call mom tomorrow 5pm");
    const chip = panel.getByTestId("due-chip");
    await chip.waitFor();
    expect(await chip.textContent()).toMatch(/17:00|5:00/);
    await panel.getByTestId("quick-add").press("Enter");
    const task = await until(
      async () => (await listTasks()).find((t) => t.title === "Call mom"),
      "the quick-added task",
    );
    expect(task.due).toMatchObject({ date_only: false, time: "17:00" });
    expect(await panel.getByTestId("quick-add").inputValue()).toBe("");
    await panel.close();
  });

  it("completes, edits and deletes with undo, and reflects changes made elsewhere", async () => {
    const panel = await openPanel(a.browser);
    await panel.getByTestId("filter-all").click();
    const created = await api<{ task: Task }>(env.stack.gatewayUrl, a.token, "/api/tasks", {
      method: "POST",
      body: JSON.stringify({ title: "Water the plants", due: "tomorrow 9am" }),
    });
    const row = panel.locator(`[data-task-id="${created.task.id}"]`);
    await row.waitFor();

    // The toast appears once the server confirmed the change; its Undo reverts it there.
    await row.getByRole("checkbox").click();
    const completedToast = panel.getByTestId("toast").filter({ hasText: "Completed" });
    await completedToast.waitFor();
    expect((await listTasks()).find((t) => t.id === created.task.id)?.status).toBe("completed");
    await completedToast.getByRole("button", { name: "Undo" }).click();
    await until(
      async () => (await listTasks()).find((t) => t.id === created.task.id)?.status === "pending",
      "undo",
    );
    await row.waitFor();

    await row.getByRole("button", { name: /^Edit/ }).click();
    await panel.getByLabel("Title").fill("Water the ferns");
    await panel.getByLabel("Priority").selectOption("high");
    await panel.getByRole("button", { name: "Save", exact: true }).click();
    await until(async () => {
      const t = (await listTasks()).find((x) => x.id === created.task.id);
      return t?.title === "Water the ferns" && t.priority === "high";
    }, "the inline edit");

    await row.getByRole("button", { name: /^Delete/ }).click();
    const deletedToast = panel.getByTestId("toast").filter({ hasText: "Deleted" });
    await deletedToast.waitFor();
    expect((await listTasks()).some((t) => t.id === created.task.id)).toBe(false);
    await deletedToast.getByRole("button", { name: "Undo" }).click();
    await until(async () => (await listTasks()).some((t) => t.id === created.task.id), "restore");
    await row.waitFor();
    await panel.close();
  });

  it("when newer panels of the account take its live updates, says so, and resumes on request", async () => {
    const panel = await openPanel(a.browser);
    await panel.getByTestId("filter-all").click();
    const add = (title: string) =>
      api(env.stack.gatewayUrl, a.token, "/api/tasks", { method: "POST", body: JSON.stringify({ title }) });
    // Its stream is open (the list alone could have come over REST).
    await panel.locator('[data-stream="live"]').waitFor({ timeout: 15_000 });
    await add("Before the crowd");
    await panel.getByText("Before the crowd").waitFor({ timeout: 15_000 });
    // Twenty newer live streams of the account (the most it may hold), as twenty other panels would open.
    const others = new AbortController();
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${env.stack.gatewayUrl}/api/changes`, {
        headers: { authorization: `Bearer ${a.token}` },
        signal: others.signal,
      });
      expect(res.status).toBe(200);
    }
    await panel.getByTestId("paused-banner").waitFor({ timeout: 15_000 });
    await add("While paused");
    others.abort();
    await panel.getByTestId("paused-banner").getByRole("button", { name: "Resume" }).click();
    await panel.getByText("While paused").waitFor({ timeout: 15_000 });
    await panel.locator('[data-stream="live"]').waitFor({ timeout: 15_000 });
    expect(await panel.getByTestId("paused-banner").count()).toBe(0);
    // The account's other panels were paused too: they resume when their user comes back to them.
    for (const other of a.browser.context.pages()) {
      const resume = other.getByTestId("paused-banner").getByRole("button", { name: "Resume" });
      if (other !== panel && (await resume.count())) await resume.click();
    }
    await panel.close();
  });

  it("never loses a capture: gateway down, two captures (shown pending), restart → exactly two tasks", async () => {
    const before = (await listTasks()).length;
    const { panel } = await pageWithSelection(a, 2);
    await panel.getByTestId("page-title").filter({ hasText: "Test article 2" }).waitFor();
    await env.stack.stop();
    await panel.getByTestId("save-page").click();
    await panel.getByTestId("quick-add").fill("Offline idea");
    await panel.getByTestId("quick-add").press("Enter");
    await until(
      async () => (await panel.getByTestId("outbox-pending").count()) === 2,
      "two pending captures",
    );
    await panel.getByTestId("outbox-pending").first().getByText("pending").waitFor();
    await panel.getByTestId("offline-banner").waitFor({ timeout: 30_000 });

    await env.stack.start();
    // The outbox's backoff alarm sends them; nothing is clicked.
    await until(async () => (await listTasks()).length === before + 2, "both captures on the server", 90_000);
    await until(async () => (await panel.getByTestId("outbox-pending").count()) === 0, "the outbox to empty");
    const titles = (await listTasks()).map((t) => t.title);
    expect(titles.filter((t) => t === "Test article 2")).toHaveLength(1);
    expect(titles.filter((t) => t === "Offline idea")).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 2000));
    expect((await listTasks()).length).toBe(before + 2);
    await panel.close();
  });

  it("a reminder fires for a task due in a few seconds", async () => {
    const panel = await openPanel(a.browser);
    const due = new Date(Date.now() + 8000).toISOString();
    const { task } = await api<{ task: Task }>(env.stack.gatewayUrl, a.token, "/api/tasks", {
      method: "POST",
      body: JSON.stringify({ title: "Stand up and stretch", due }),
    });
    const id = `reminder:${task.id}`;
    await until(
      async () =>
        (await a.browser.worker.evaluate(() => chrome.alarms.getAll())).some((al) => al.name === id),
      "the reminder alarm",
    );
    await until(
      async () =>
        Object.keys(await a.browser.worker.evaluate(() => chrome.notifications.getAll())).includes(id),
      "the reminder notification",
      60_000,
    );
    await panel.close();
  });

  it("an expired session says so, keeps captures, and sends them after signing in again", async () => {
    const d = await env.addProfile();
    // The session ends elsewhere (signed out on the server, or expired).
    await fetch(`${env.stack.gatewayUrl}/api/auth/sign-out`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${d.token}`,
        "content-type": "application/json",
        origin: env.stack.gatewayUrl,
      },
      body: "{}",
    });
    // A capture made meanwhile (the message the page card or quick-add sends to the background; a context-menu
    // capture takes the same path). The server refuses the token: the capture waits, the panel asks to sign in.
    await d.panel.evaluate(() =>
      chrome.runtime.sendMessage({ margin: "addTask", data: { task: { title: "Captured after expiry" } } }),
    );
    await until(
      async () =>
        JSON.stringify(
          await d.browser.worker.evaluate(async () => (await chrome.storage.local.get("outbox")).outbox),
        ).includes("Waiting for sign-in"),
      "the capture waiting for sign-in",
    );
    await d.panel.getByTestId("session-expired").waitFor({ timeout: 30_000 });
    const kept = await d.browser.worker.evaluate(
      async () => (await chrome.storage.local.get("outbox")).outbox,
    );
    expect(JSON.stringify(kept)).toContain("Captured after expiry");

    await signInThroughPanel(d.browser, d.panel, {
      gatewayUrl: env.stack.gatewayUrl,
      email: "reader@example.com",
      createAccount: false,
    });
    await until(
      async () => (await listTasks()).some((t) => t.title === "Captured after expiry"),
      "the kept capture",
    );
  });

  it("signing out revokes the session on the server", async () => {
    const c = await env.addProfile();
    await c.panel.getByTestId("view-settings").click();
    await c.panel.getByTestId("sign-out").click();
    await c.panel.getByTestId("sign-in-button").waitFor();
    const res = await fetch(`${env.stack.gatewayUrl}/api/tasks`, {
      headers: { authorization: `Bearer ${c.token}` },
    });
    expect(res.status).toBe(401);
    // The first profile's session is untouched.
    expect(
      (await fetch(`${env.stack.gatewayUrl}/api/tasks`, { headers: { authorization: `Bearer ${a.token}` } }))
        .status,
    ).toBe(200);
  });
});
