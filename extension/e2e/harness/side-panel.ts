import type { CDPSession } from "playwright-core";
import type { ExtensionBrowser } from "./browser.ts";

/**
 * The real Chrome side panel. Playwright does not attach to it (it is missing from context.pages()), so it is
 * opened with chrome.sidePanel.open() from an extension page (evaluate() counts as the user gesture) and driven
 * through a browser-level CDP session and the non-flattened target tunnel.
 */
export async function openRealSidePanel(browser: ExtensionBrowser, tabId: number) {
  const opener = await browser.context.newPage();
  await opener.goto(browser.url("sidepanel.html"));
  await opener.evaluate(async (id) => {
    const tab = await chrome.tabs.get(id);
    await chrome.tabs.update(id, { active: true });
    await chrome.sidePanel.open({ windowId: tab.windowId });
  }, tabId);
  await opener.close();
  const session = await browser.context.browser()!.newBrowserCDPSession();
  // The panel document is created after open() resolves: wait for its target.
  let targetId: string | undefined;
  for (let i = 0; i < 150 && !targetId; i++) {
    const { targetInfos } = (await session.send("Target.getTargets")) as {
      targetInfos: { targetId: string; url: string; type: string }[];
    };
    targetId = targetInfos.find(
      (t) => t.url.startsWith(browser.url("sidepanel.html")) && t.type === "page",
    )?.targetId;
    if (!targetId) await new Promise((r) => setTimeout(r, 100));
  }
  if (!targetId) throw new Error("the side panel did not open");
  return attach(session, targetId);
}

async function attach(session: CDPSession, targetId: string) {
  const { sessionId } = (await session.send("Target.attachToTarget", { targetId, flatten: false })) as {
    sessionId: string;
  };
  let next = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  session.on("Target.receivedMessageFromTarget", (e: { sessionId: string; message: string }) => {
    if (e.sessionId !== sessionId) return;
    const msg = JSON.parse(e.message) as { id?: number; result?: unknown; error?: { message: string } };
    const waiter = msg.id ? pending.get(msg.id) : undefined;
    if (!waiter) return;
    pending.delete(msg.id!);
    if (msg.error) waiter.reject(new Error(msg.error.message));
    else waiter.resolve(msg.result);
  });
  const send = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      void session
        .send("Target.sendMessageToTarget", { sessionId, message: JSON.stringify({ id, method, params }) })
        .catch(reject);
    });
  return {
    /** Evaluates an expression in the panel (awaiting promises) and returns its JSON value. */
    async evaluate<T>(expression: string): Promise<T> {
      const r = (await send("Runtime.evaluate", {
        expression,
        awaitPromise: true,
        returnByValue: true,
        userGesture: true,
      })) as { result: { value: T }; exceptionDetails?: { text: string } };
      if (r.exceptionDetails) throw new Error(r.exceptionDetails.text);
      return r.result.value;
    },
    async screenshot(): Promise<Buffer> {
      const r = (await send("Page.captureScreenshot", { format: "png" })) as { data: string };
      return Buffer.from(r.data, "base64");
    },
    close: () => session.detach().catch(() => {}),
  };
}
