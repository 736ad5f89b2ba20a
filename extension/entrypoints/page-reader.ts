import { Readability } from "@mozilla/readability";
import { defineUnlistedScript } from "wxt/utils/define-unlisted-script";
import type { PageReading } from "../src/capture/page.ts";

// Injected on demand (scripting.executeScript) into the page being captured; its return value is the answer.
const EXCERPT_CHARS = 4_000;

export default defineUnlistedScript((): PageReading => {
  const selection = window.getSelection()?.toString().trim() ?? "";
  let excerpt = "";
  try {
    // Readability mutates the document it is given, so it reads a copy.
    const article = new Readability(document.cloneNode(true) as Document, { charThreshold: 200 }).parse();
    excerpt = (article?.textContent ?? document.body?.textContent ?? "").replace(/\s+/g, " ").trim();
  } catch {
    excerpt = (document.body?.textContent ?? "").replace(/\s+/g, " ").trim();
  }
  return { selection, excerpt: excerpt.slice(0, EXCERPT_CHARS), contentType: document.contentType };
});
