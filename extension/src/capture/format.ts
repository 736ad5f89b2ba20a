import type { NewTask } from "../api/schemas.ts";
import type { PageInfo } from "./page.ts";

// The gateway's limits (add_task): a capture that fits is never refused for its size.
const TITLE_MAX = 500;
const NOTES_MAX = 10_000;
const EXCERPT_MAX = 4_000;
const URL_MAX = 2_048;

const clip = (text: string, max: number) =>
  text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text;
const squash = (text: string) => text.replace(/\s+/g, " ").trim();

/** A page's title, or its address when it has none. */
function pageTitle(page: Pick<PageInfo, "title" | "url">): string {
  const title = squash(page.title);
  if (title && title !== page.url) return title;
  try {
    const u = new URL(page.url);
    return `${u.hostname}${u.pathname === "/" ? "" : u.pathname}` || page.url;
  } catch {
    return page.url || "Untitled page";
  }
}

/**
 * The task a capture becomes: the page title (or a typed title), the selection as notes, and the page as
 * its source. Only http(s) addresses are sources; other pages keep their address in the notes.
 */
export function taskFromPage(
  page: PageInfo,
  opts: { title?: string; includeSelection?: boolean } = {},
): NewTask {
  const title = clip(squash(opts.title ?? "") || pageTitle(page), TITLE_MAX);
  const selection = opts.includeSelection === false ? "" : page.selection.trim();
  const webPage = /^https?:\/\//i.test(page.url) && page.url.length <= URL_MAX;
  const notesParts = [selection];
  if (!webPage && page.url) notesParts.push(page.url);
  const notes = clip(notesParts.filter(Boolean).join("\n\n"), NOTES_MAX);
  const task: NewTask = { title };
  if (notes) task.notes = notes;
  if (webPage) {
    task.source = { url: page.url, title: clip(squash(page.title) || pageTitle(page), TITLE_MAX) };
    if (page.excerpt) task.source.excerpt = clip(page.excerpt.trim(), EXCERPT_MAX);
  }
  return task;
}
