import { browser } from "wxt/browser";

export const MENU_SAVE_PAGE = "margin-save-page";
export const MENU_SAVE_SELECTION = "margin-save-selection";

/** The context-menu items; created once per install/update (menus persist across restarts). */
export async function registerMenus(): Promise<void> {
  await browser.contextMenus.removeAll();
  browser.contextMenus.create({
    id: MENU_SAVE_PAGE,
    title: "Save page to Margin",
    contexts: ["page", "frame", "link"],
  });
  browser.contextMenus.create({
    id: MENU_SAVE_SELECTION,
    title: "Save selection to Margin",
    contexts: ["selection"],
  });
}

export type CaptureRequest = { kind: "page" | "selection"; selectionText?: string };

/** What a context-menu click asks to capture, or null for items that are not ours. */
export function captureForMenu(info: {
  menuItemId: string | number;
  selectionText?: string;
}): CaptureRequest | null {
  if (info.menuItemId === MENU_SAVE_PAGE) return { kind: "page" };
  if (info.menuItemId === MENU_SAVE_SELECTION)
    return { kind: "selection", selectionText: info.selectionText ?? "" };
  return null;
}

export const COMMAND_SAVE_PAGE = "save-page";

/** The keyboard command (Alt+Shift+S by default, rebindable in the browser's shortcut settings). */
export function captureForCommand(command: string): CaptureRequest | null {
  return command === COMMAND_SAVE_PAGE ? { kind: "page" } : null;
}
