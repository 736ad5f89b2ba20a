import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fakeBrowser } from "wxt/testing/fake-browser";
import { sessionItem } from "../auth/session.ts";
import { MENU_SAVE_PAGE, MENU_SAVE_SELECTION } from "../capture/menus.ts";
import { outboxItem } from "../outbox/outbox.ts";
import { makeTask } from "../test-support/tasks.ts";
import { startBackground } from "./main.ts";
import { focusTaskItem } from "./open-panel.ts";

type Listener = (...args: never[]) => unknown;

/** Stubs what the fake browser does not implement, capturing listeners so tests can fire them. */
function stubBrowser() {
  const menus: { id: string; title: string; contexts: string[] }[] = [];
  const listeners: Record<string, Listener> = {};
  const capture = (name: string) => (cb: Listener) => {
    listeners[name] = cb;
  };
  vi.spyOn(fakeBrowser.contextMenus, "removeAll").mockResolvedValue(undefined as never);
  vi.spyOn(fakeBrowser.contextMenus, "create").mockImplementation(((m: (typeof menus)[number]) => {
    menus.push(m);
    return m.id;
  }) as never);
  vi.spyOn(fakeBrowser.contextMenus.onClicked, "addListener").mockImplementation(capture("menu") as never);
  vi.spyOn(fakeBrowser.commands.onCommand, "addListener").mockImplementation(capture("command") as never);
  vi.spyOn(fakeBrowser.sidePanel, "setPanelBehavior").mockResolvedValue(undefined as never);
  const badge: string[] = [];
  vi.spyOn(fakeBrowser.action, "setBadgeText").mockImplementation(
    (async ({ text }: { text: string }) => void badge.push(text)) as never,
  );
  vi.spyOn(fakeBrowser.action, "setBadgeBackgroundColor").mockResolvedValue(undefined as never);
  const notes: { id: string; options: { title: string; message: string; buttons?: { title: string }[] } }[] =
    [];
  vi.spyOn(fakeBrowser.notifications, "create").mockImplementation((async (id: string, options: never) => {
    notes.push({ id, options });
    return id;
  }) as never);
  vi.spyOn(fakeBrowser.notifications.onClicked, "addListener").mockImplementation(
    capture("notificationClick") as never,
  );
  vi.spyOn(fakeBrowser.notifications.onButtonClicked, "addListener").mockImplementation(
    capture("notificationButton") as never,
  );
  const executed: unknown[] = [];
  vi.spyOn(fakeBrowser.scripting, "executeScript").mockImplementation((async (opts: unknown) => {
    executed.push(opts);
    return [
      { result: { selection: "picked words", excerpt: "The readable text.", contentType: "text/html" } },
    ];
  }) as never);
  return { menus, listeners, badge, notes, executed };
}

/** The gateway: records task POSTs, answers like the real one. */
function stubGateway() {
  const posts: { body: Record<string, unknown>; key: string | null }[] = [];
  const others: string[] = [];
  let down = false;
  vi.stubGlobal("fetch", async (url: string, init: RequestInit = {}) => {
    if (down) throw new TypeError("Failed to fetch");
    const headers = init.headers as Record<string, string>;
    if (url.endsWith("/api/tasks") && init.method === "POST") {
      const body = JSON.parse(String(init.body));
      posts.push({ body, key: headers["idempotency-key"] ?? null });
      return Response.json({ task: makeTask({ title: body.title }) }, { status: 201 });
    }
    if (url.includes("/api/tasks?")) return Response.json({ tasks: [], next_cursor: null });
    if (/\/api\/tasks\/[^/]+(\/complete)?$/.test(url)) {
      others.push(`${init.method} ${new URL(url).pathname}`);
      return Response.json({ task: makeTask(), changed: true });
    }
    return Response.json({ error: { code: "not_found", message: "no" } }, { status: 404 });
  });
  return {
    posts,
    others,
    setDown: (d: boolean) => {
      down = d;
    },
  };
}

const tab = { id: 7, windowId: 1, url: "https://example.com/post", title: "A post" };

describe("background: capture from anywhere", () => {
  beforeEach(async () => {
    fakeBrowser.reset();
    await sessionItem.setValue({
      token: "tok",
      gatewayUrl: "http://localhost:8787",
      user: { id: "u1", email: "a@example.com", timezone: "UTC" },
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
  });

  it("registers 'Save page to Margin' and 'Save selection to Margin' on install", async () => {
    const b = stubBrowser();
    stubGateway();
    startBackground();
    await fakeBrowser.runtime.onInstalled.trigger({ reason: "install", temporary: false } as never);
    expect(b.menus.map((m) => [m.id, m.title, m.contexts.includes("selection")])).toEqual([
      [MENU_SAVE_PAGE, "Save page to Margin", false],
      [MENU_SAVE_SELECTION, "Save selection to Margin", true],
    ]);
  });

  it("a selection menu click saves a task with the page link, selection and excerpt, then confirms with Undo", async () => {
    const b = stubBrowser();
    const gw = stubGateway();
    const outbox = startBackground();
    b.listeners.menu!(
      { menuItemId: MENU_SAVE_SELECTION, selectionText: "the chosen text" } as never,
      tab as never,
    );
    await vi.waitFor(() => expect(gw.posts).toHaveLength(1));
    await outbox.idle();
    expect(gw.posts[0]!.body).toEqual({
      title: "A post",
      notes: "the chosen text",
      source: { url: tab.url, title: "A post", excerpt: "The readable text." },
    });
    expect(gw.posts[0]!.key).toMatch(/^[0-9a-f-]{36}$/);
    await vi.waitFor(() => expect(b.notes.map((n) => n.options.title)).toContain("Saved to Margin"));
    expect(b.notes[0]!.options.buttons).toEqual([{ title: "Undo" }]);
    expect(b.badge).toContain("✓");
  });

  it("the Alt+Shift+S command saves the active tab", async () => {
    const b = stubBrowser();
    const gw = stubGateway();
    startBackground();
    b.listeners.command!("save-page" as never, tab as never);
    await vi.waitFor(() => expect(gw.posts).toHaveLength(1));
    expect(gw.posts[0]!.body).toMatchObject({
      title: "A post",
      notes: "picked words",
      source: { url: tab.url },
    });
  });

  it("ignores other menu items and commands", async () => {
    const b = stubBrowser();
    const gw = stubGateway();
    startBackground();
    b.listeners.menu!({ menuItemId: "someone-else" } as never, tab as never);
    b.listeners.command!("other" as never, tab as never);
    await new Promise((r) => setTimeout(r, 20));
    expect(gw.posts).toEqual([]);
  });

  it("with the gateway down, a capture waits in the outbox and says so", async () => {
    const b = stubBrowser();
    const gw = stubGateway();
    gw.setDown(true);
    const outbox = startBackground();
    b.listeners.menu!({ menuItemId: MENU_SAVE_PAGE } as never, tab as never);
    await vi.waitFor(async () => expect(await outboxItem.getValue()).toHaveLength(1));
    await outbox.idle();
    await vi.waitFor(() => expect(b.notes.map((n) => n.options.title)).toContain("Kept for later"));
    expect(await fakeBrowser.alarms.get("outbox-retry")).toBeTruthy();
    gw.setDown(false);
    await outbox.retryAll();
    expect(gw.posts).toHaveLength(1);
    expect(await outboxItem.getValue()).toEqual([]);
  });

  it("unreadable pages still save with title and address", async () => {
    const b = stubBrowser();
    const gw = stubGateway();
    startBackground();
    b.listeners.menu!(
      { menuItemId: MENU_SAVE_PAGE } as never,
      { id: 3, url: "chrome://settings/", title: "Settings" } as never,
    );
    await vi.waitFor(() => expect(gw.posts).toHaveLength(1));
    expect(gw.posts[0]!.body).toEqual({ title: "Settings", notes: "chrome://settings/" });
    expect(b.executed).toEqual([]);
  });

  it("reminder buttons: Complete completes the task, Snooze 1 h reminds again an hour later", async () => {
    const b = stubBrowser();
    const gw = stubGateway();
    startBackground();
    b.listeners.notificationButton!("reminder:task-1" as never, 0 as never);
    await vi.waitFor(() => expect(gw.others).toContain("POST /api/tasks/task-1/complete"));
    const before = Date.now();
    b.listeners.notificationButton!("reminder:task-2" as never, 1 as never);
    await vi.waitFor(async () => expect(await fakeBrowser.alarms.get("reminder:task-2")).toBeTruthy());
    const alarm = await fakeBrowser.alarms.get("reminder:task-2");
    expect(alarm!.scheduledTime - before).toBeGreaterThanOrEqual(3_600_000 - 1000);
    expect(gw.others).not.toContain("POST /api/tasks/task-2/complete");
  });

  it("Undo on a capture notification deletes the task; clicking a reminder opens the panel on its task", async () => {
    const b = stubBrowser();
    const gw = stubGateway();
    const open = vi.spyOn(fakeBrowser.sidePanel, "open").mockResolvedValue(undefined as never);
    vi.spyOn(fakeBrowser.windows, "getLastFocused").mockResolvedValue({ id: 5 } as never);
    startBackground();
    b.listeners.notificationButton!("capture:task-3" as never, 0 as never);
    await vi.waitFor(() => expect(gw.others).toContain("DELETE /api/tasks/task-3"));
    b.listeners.notificationClick!("reminder:task-4" as never);
    await vi.waitFor(() => expect(open).toHaveBeenCalledWith({ windowId: 5 }));
    expect(await focusTaskItem.getValue()).toBe("task-4");
  });
});
