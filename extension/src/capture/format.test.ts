import { describe, expect, it } from "vitest";
import { taskFromPage } from "./format.ts";
import { unreadableReason } from "./page.ts";

const page = {
  url: "https://example.com/articles/42?ref=x",
  title: "  An   article\nabout things ",
  selection: "",
};

describe("taskFromPage", () => {
  it("makes the page title the task and links the page as its source", () => {
    expect(taskFromPage({ ...page, excerpt: "Body text." })).toEqual({
      title: "An article about things",
      source: { url: page.url, title: "An article about things", excerpt: "Body text." },
    });
  });

  it("puts the selection in the notes", () => {
    const task = taskFromPage({ ...page, selection: "  the quoted part \n" });
    expect(task.notes).toBe("the quoted part");
  });

  it("uses a typed title instead of the page's", () => {
    expect(taskFromPage(page, { title: "Reply to Ann" }).title).toBe("Reply to Ann");
  });

  it("falls back to the address when a page has no title", () => {
    expect(taskFromPage({ ...page, title: "" }).title).toBe("example.com/articles/42");
    expect(taskFromPage({ ...page, title: page.url }).title).toBe("example.com/articles/42");
  });

  it("caps every field at the server's limits so a capture is never refused for size", () => {
    const task = taskFromPage({
      ...page,
      title: "t".repeat(900),
      selection: "s".repeat(20_000),
      excerpt: "e".repeat(9000),
    });
    expect(task.title).toHaveLength(500);
    expect(task.notes).toHaveLength(10_000);
    expect(task.source?.excerpt).toHaveLength(4000);
    expect(task.title.endsWith("…")).toBe(true);
  });

  it("keeps non-web pages' address in the notes, not as a source (the server takes http(s) only)", () => {
    const task = taskFromPage({ url: "chrome://settings/", title: "Settings", selection: "" });
    expect(task).toEqual({ title: "Settings", notes: "chrome://settings/" });
  });
});

describe("unreadableReason", () => {
  it("explains pages no extension may read", () => {
    expect(unreadableReason("chrome://extensions/")).toMatch(/Browser pages/);
    expect(unreadableReason("about:blank")).toMatch(/Browser pages/);
    expect(unreadableReason("https://chromewebstore.google.com/detail/abc")).toMatch(/extension store/);
    expect(unreadableReason("https://addons.mozilla.org/en-US/firefox/addon/x/")).toMatch(/extension store/);
    expect(unreadableReason("https://example.com/paper.PDF")).toMatch(/PDF/);
  });
  it("lets ordinary pages through", () => {
    expect(unreadableReason("https://example.com/")).toBeUndefined();
    expect(unreadableReason("http://127.0.0.1:3000/page")).toBeUndefined();
  });
});
