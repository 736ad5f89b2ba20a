import { browser } from "wxt/browser";

/** What the panel and captures know about a tab. */
export type PageInfo = {
  tabId?: number;
  windowId?: number;
  url: string;
  title: string;
  favIconUrl?: string;
  selection: string;
  /** Readable text of the page (Readability), capped; absent when the page can't be read. */
  excerpt?: string;
  /** Why there is no selection or excerpt, in words for the user. */
  unreadable?: string;
  /** True when reading failed for lack of host permission, which the user can grant. */
  needsPermission?: boolean;
};

/** What the in-page reader script returns. */
export type PageReading = { selection: string; excerpt: string; contentType: string };

const STORE_HOSTS = [
  "chromewebstore.google.com",
  "chrome.google.com",
  "addons.mozilla.org",
  "microsoftedge.microsoft.com",
];

/** Pages no extension may script, known from the URL alone. */
export function unreadableReason(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "This tab has no web address, so there is nothing to read.";
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:" && parsed.protocol !== "file:")
    return "Browser pages (settings, new tab, extensions) can't be read by extensions; the title and address are saved.";
  if (STORE_HOSTS.includes(parsed.hostname) && /webstore|addons|detail|extensions/.test(parsed.href))
    return "The browser's extension store can't be read by extensions; the title and address are saved.";
  if (/\.pdf$/i.test(parsed.pathname)) return "PDF documents can't be read; the title and address are saved.";
  return undefined;
}

const PDF_REASON = "PDF documents can't be read; the title and address are saved.";
const PERMISSION_REASON =
  "Margin may not read this site yet. Allow it to include the selection and an excerpt.";

/** Reads the tab's selection and a readable excerpt in the page itself. Never throws: it says why not instead. */
export async function readPage(tab: {
  id?: number;
  windowId?: number;
  url?: string;
  title?: string;
  favIconUrl?: string;
}): Promise<PageInfo> {
  const url = tab.url ?? "";
  const base: PageInfo = {
    tabId: tab.id,
    windowId: tab.windowId,
    url,
    title: tab.title || url,
    favIconUrl: tab.favIconUrl,
    selection: "",
  };
  const reason = unreadableReason(url);
  if (reason || tab.id === undefined) return { ...base, unreadable: reason ?? "This tab can't be read." };
  try {
    const [result] = await browser.scripting.executeScript({
      target: { tabId: tab.id },
      files: ["/page-reader.js"],
    });
    const reading = result?.result as PageReading | undefined;
    if (!reading)
      return { ...base, unreadable: "This page did not answer; the title and address are saved." };
    if (reading.contentType === "application/pdf") return { ...base, unreadable: PDF_REASON };
    return { ...base, selection: reading.selection, excerpt: reading.excerpt || undefined };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/permission|cannot access|missing host/i.test(message))
      return { ...base, unreadable: PERMISSION_REASON, needsPermission: true };
    return { ...base, unreadable: "This page can't be read by extensions; the title and address are saved." };
  }
}
