import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_PASSWORD } from "../support/auth.ts";
import { gatewayForFile } from "../support/gateway-for-file.ts";
import { launchChromium } from "../web/support/browser.ts";
import { addTask, person } from "./support.ts";

const { database, gw } = gatewayForFile();
let browser: Browser;
let context: BrowserContext;
/** Another site: it frames the account page and posts forms to it. */
let evil: Server;
let evilUrl: string;

beforeAll(async () => {
  browser = await launchChromium();
  evil = createServer((req, res) => {
    const target = `${gw.baseUrl}/account`;
    const html = req.url?.startsWith("/frame")
      ? `<iframe id="f" src="${target}" width="600" height="400"></iframe>`
      : `<form id="f" method="post" action="${target}/export"><input name="format" value="json"></form>
         <script>document.getElementById("f").submit()</script>`;
    res.setHeader("content-type", "text/html");
    res.end(`<!doctype html><html><body>${html}</body></html>`);
  });
  evil.listen(0, "127.0.0.1");
  await once(evil, "listening");
  // "localhost" is another site than "127.0.0.1" to the browser.
  evilUrl = `http://localhost:${(evil.address() as AddressInfo).port}`;
}, 120_000);
afterAll(async () => {
  await context?.close();
  await browser?.close();
  evil?.close();
});

describe("the account page in Chromium", () => {
  it("signs in, exports, imports, refuses framing and cross-site posts, and deletes the account", async () => {
    const who = await person(gw, database, "browser");
    await addTask(gw, who, { title: "take me with you" });
    context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.accept();
    });

    await page.goto(`${gw.baseUrl}/account`);
    await page.fill("#email", who.email);
    await page.fill("#password", TEST_PASSWORD);
    await Promise.all([page.waitForEvent("load"), page.click("#sign-in button[type=submit]")]);
    await expect.poll(() => page.textContent("#who")).toBe(who.email);
    expect(page.url()).toBe(`${gw.baseUrl}/account`);

    // Export: the browser downloads the file; no token in the URL it posted to.
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("button[value=json]")]);
    expect(download.url()).toBe(`${gw.baseUrl}/account/export`);
    const exported = JSON.parse(await readFile((await download.path())!, "utf8")) as {
      tasks: { title: string }[];
    };
    expect(exported.tasks.map((t) => t.title)).toEqual(["take me with you"]);

    // Import a Todoist file through the form's script.
    await page.setInputFiles("#file", {
      name: "todoist.csv",
      mimeType: "text/csv",
      buffer: Buffer.from("TYPE,CONTENT,PRIORITY\ntask,imported in the browser @inbox,1\n"),
    });
    await page.click("#import button[type=submit]");
    await expect.poll(() => page.textContent("#import-status")).toMatch(/Imported 1 task\(s\): 1 new/);

    // Another site cannot frame the page...
    // (the browser fetches it, then refuses to show it).
    const framer = await context.newPage();
    const fetched = framer.waitForResponse(`${gw.baseUrl}/account`);
    await framer.goto(`${evilUrl}/frame`);
    expect((await fetched).status()).toBe(200);
    await framer.waitForTimeout(300);
    const framed = framer.frames().find((f) => f !== framer.mainFrame());
    expect(framed).toBeDefined();
    const shown = await framed!.evaluate(() => document.body?.textContent ?? "").catch(() => "");
    expect(shown).not.toContain("Your Margin account");
    // ...nor make the signed-in browser post to it.
    const poster = await context.newPage();
    const response = poster.waitForResponse(`${gw.baseUrl}/account/export`);
    await poster.goto(evilUrl);
    expect([401, 403]).toContain((await response).status());

    // Delete: the password and the confirm dialog.
    await page.fill("#confirm-password", TEST_PASSWORD);
    await Promise.all([page.waitForEvent("load"), page.click("#delete button[type=submit]")]);
    expect(dialogs).toEqual(["Delete your Margin account and all its data for good?"]);
    expect(await page.textContent("h1")).toBe("Your account is deleted");
    expect((await gw.api("/api/tasks", who.token)).status).toBe(401);
  }, 120_000);
});
