import { browser } from "wxt/browser";
import { storage } from "wxt/utils/storage";

/** The task the panel should scroll to and highlight when it opens (from a reminder click). */
export const focusTaskItem = storage.defineItem<string | null>("local:focus-task", { fallback: null });

/** Firefox's sidebar API (not in Chromium's types). */
type SidebarAction = { open(): Promise<void>; toggle(): Promise<void> };
const sidebarAction = () => (browser as unknown as { sidebarAction?: SidebarAction }).sidebarAction;

/** Toolbar button → panel: Chrome opens the side panel itself; Firefox toggles the sidebar on click. */
export function wireToolbarButton(): void {
  if (import.meta.env.BROWSER === "firefox") {
    browser.browserAction?.onClicked.addListener(() => void sidebarAction()?.toggle());
    return;
  }
  browser.sidePanel?.setPanelBehavior({ openPanelOnActionClick: true }).catch(() => {});
}

/** Opens the panel (on a task, if given). A click is a user gesture; where opening is refused, a tab shows it. */
export async function openPanel(windowId?: number, taskId?: string): Promise<void> {
  if (taskId) await focusTaskItem.setValue(taskId);
  try {
    if (import.meta.env.BROWSER === "firefox") {
      await sidebarAction()?.open();
      return;
    }
    const target = windowId ?? (await browser.windows.getLastFocused()).id;
    await browser.sidePanel.open({ windowId: target! });
  } catch {
    await browser.tabs.create({
      url: browser.runtime.getURL(`/sidepanel.html${taskId ? `?task=${taskId}` : ""}`),
    });
  }
}
