import { useCallback, useEffect, useRef, useState } from "react";
import { type Browser, browser } from "wxt/browser";
import { type PageInfo, readPage } from "../capture/page.ts";
import { onMessage } from "../messaging/protocol.ts";

type Tab = Browser.tabs.Tab;

/**
 * The tab the panel is about: `?tabId=` (tests), else the active tab of the focused window, else (the panel
 * opened as a tab of its own) the most recently used web tab.
 */
export async function resolveTargetTab(): Promise<Tab | undefined> {
  const param = new URLSearchParams(location.search).get("tabId");
  if (param) return browser.tabs.get(Number(param)).catch(() => undefined);
  const self = browser.runtime.getURL("/");
  const [active] = await browser.tabs.query({ active: true, lastFocusedWindow: true });
  if (active && !active.url?.startsWith(self)) return active;
  const all = await browser.tabs.query({});
  return all
    .filter((t) => t.url && /^https?:|^file:/.test(t.url))
    .sort((a, b) => (b.lastAccessed ?? 0) - (a.lastAccessed ?? 0))[0];
}

// Injected into the page after each reading: reports the selection as it is now, since one made while the
// panel was reading the page is missing from that reading, then its changes (one listener per page).
function watchSelection() {
  const w = window as unknown as { __marginSelectionWatch?: boolean };
  const report = () => {
    const text = window.getSelection()?.toString().trim() ?? "";
    // Runs in the page, where only the global extension API exists (no imports).
    const api = (
      globalThis as unknown as { chrome: { runtime: { sendMessage(m: unknown): Promise<unknown> } } }
    ).chrome;
    api.runtime.sendMessage({ margin: "selectionChanged", data: { text } }).catch(() => {});
  };
  if (!w.__marginSelectionWatch) {
    w.__marginSelectionWatch = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    document.addEventListener("selectionchange", () => {
      clearTimeout(timer);
      timer = setTimeout(report, 250);
    });
  }
  report();
}

/** The page card's page: follows tab switches, navigations and selection changes. */
export function useCurrentPage(): { page: PageInfo | null; refresh: () => void } {
  const [page, setPage] = useState<PageInfo | null>(null);
  // Tab events come in bursts and readings finish out of order: only the latest refresh may set the page.
  const latest = useRef(0);

  const refresh = useCallback(() => {
    const run = ++latest.current;
    void (async () => {
      const tab = await resolveTargetTab();
      if (run !== latest.current) return;
      if (!tab) return setPage(null);
      // Title and address first (no waiting for the page script), then selection and excerpt.
      setPage((prev) =>
        prev && prev.tabId === tab.id && prev.url === tab.url
          ? prev
          : {
              tabId: tab.id,
              windowId: tab.windowId,
              url: tab.url ?? "",
              title: tab.title ?? "",
              favIconUrl: tab.favIconUrl,
              selection: "",
            },
      );
      const info = await readPage(tab);
      if (run !== latest.current) return;
      setPage(info);
      if (!info.unreadable && tab.id !== undefined)
        browser.scripting.executeScript({ target: { tabId: tab.id }, func: watchSelection }).catch(() => {});
    })();
  }, []);

  useEffect(() => {
    refresh();
    const onActivated = () => refresh();
    const onUpdated = (_id: number, change: { status?: string; title?: string; url?: string }) => {
      if (change.status === "complete" || change.title || change.url) refresh();
    };
    const onFocus = () => refresh();
    browser.tabs.onActivated.addListener(onActivated);
    browser.tabs.onUpdated.addListener(onUpdated);
    browser.windows?.onFocusChanged.addListener(onFocus);
    const stop = onMessage("selectionChanged", ({ text }, sender) => {
      setPage((prev) => (prev && sender.tab?.id === prev.tabId ? { ...prev, selection: text } : prev));
      return null;
    });
    return () => {
      browser.tabs.onActivated.removeListener(onActivated);
      browser.tabs.onUpdated.removeListener(onUpdated);
      browser.windows?.onFocusChanged.removeListener(onFocus);
      stop();
    };
  }, [refresh]);

  return { page, refresh };
}
