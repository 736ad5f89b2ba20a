import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import express from "express";
import type { Browser, BrowserContext, Frame, Page, Request } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  CHATKIT_SCRIPT_URL,
  createPanelPageRouter,
  LOCALHOST_DOMAIN_KEY,
} from "../../src/http/panel-page.ts";
import { signUp } from "../support/auth.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { type GatewayHarness, startGatewayHarness } from "../support/gateway.ts";
import { launchChromium } from "./support/browser.ts";
import { buildShellPage } from "./support/build-shell.ts";
import { CHATKIT_STAND_IN, type StaticServer, startPanelStandIn } from "./support/panel-stand-in.ts";

let database: TestDatabase;
let gw: GatewayHarness;
let panelDir: string;
let browser: Browser;
let panel: StaticServer; // plays the extension: its origin is in EXTENSION_ORIGINS
let stranger: StaticServer; // any other site
let token: string;

beforeAll(async () => {
  [panelDir, database, browser, panel, stranger] = await Promise.all([
    buildShellPage(),
    createTestDatabase(),
    launchChromium(),
    startPanelStandIn(),
    startPanelStandIn(),
  ]);
  gw = await startGatewayHarness(database, { extensionOrigins: [panel.origin], panelDir });
  token = await signUp(gw.baseUrl, "shell@example.com");
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await Promise.all([gw?.close(), panel?.close(), stranger?.close()]);
  await database?.destroy();
  if (panelDir) await rm(panelDir, { recursive: true, force: true });
});

type Received = { origin: string; data: { type: string; nonce?: string; [k: string]: unknown } };
type ChatKitCall = { headers: Record<string, string>; body: Record<string, unknown> };

let context: BrowserContext;
let page: Page;
let nonce: string;
let chatkitCalls: ChatKitCall[];

beforeEach(async () => {
  context = await browser.newContext();
  nonce = randomBytes(16).toString("hex");
  chatkitCalls = [];
  // No CDN in tests: OpenAI's script is replaced by the stand-in element.
  await context.route(CHATKIT_SCRIPT_URL, (route) =>
    route.fulfill({ contentType: "text/javascript", body: CHATKIT_STAND_IN }),
  );
  // Record what ChatKit's requests carry when they leave the browser, then let them reach the gateway.
  await context.route(`${gw.baseUrl}/chatkit`, (route, request: Request) => {
    chatkitCalls.push({ headers: request.headers(), body: request.postDataJSON() });
    return route.continue();
  });
  page = await context.newPage();
});
afterEach(async () => {
  await context?.close();
});

const PAGE = { url: "https://example.com/article", title: "An article", selection: "buy milk\ncall mom" };

async function openPanel(opts: { from?: StaticServer; intruder?: boolean } = {}) {
  const from = opts.from ?? panel;
  const params = new URLSearchParams({ gateway: gw.baseUrl, nonce });
  if (opts.intruder) params.set("intruder", `${stranger.origin}/intruder`);
  await page.goto(`${from.origin}/?${params}`);
}

const received = () => page.evaluate(() => (window as unknown as { received: Received[] }).received);

async function waitForMessage(type: string): Promise<Received> {
  const handle = await page.waitForFunction(
    (t) => (window as unknown as { received: Received[] }).received.find((m) => m.data.type === t),
    type,
    { timeout: 20_000 },
  );
  return (await handle.jsonValue()) as Received;
}

/**
 * Posts to the shell as the panel does, and returns once the shell's own listener has run on it (a listener
 * added after the page's runs after it), whether it accepted the message or not.
 */
async function send(message: Record<string, unknown>, opts: { nonce?: string; from?: Frame } = {}) {
  const marker = randomBytes(8).toString("hex");
  await shellFrame().evaluate((m) => {
    const w = window as unknown as { delivered: Promise<void> };
    w.delivered = new Promise((resolve) => {
      addEventListener("message", function seen(e) {
        if (e.data?.marker !== m) return;
        removeEventListener("message", seen);
        resolve();
      });
    });
  }, marker);
  const tagged = { ...message, marker };
  if (opts.from) {
    await opts.from.evaluate(
      ([m, n]) =>
        (window as unknown as { postToShell(m: unknown): void }).postToShell({
          source: "margin-panel",
          nonce: n,
          ...(m as object),
        }),
      [tagged, opts.nonce ?? nonce] as const,
    );
  } else {
    await page.evaluate(
      ([m, n]) =>
        (window as unknown as { send(m: unknown, n?: string): void }).send(m, n as string | undefined),
      [tagged, opts.nonce] as const,
    );
  }
  await shellFrame().evaluate(() => (window as unknown as { delivered: Promise<void> }).delivered);
}

function shellFrame(): Frame {
  const frame = page.frames().find((f) => f.url().startsWith(`${gw.baseUrl}/chatkit/panel`));
  if (!frame) throw new Error(`no shell frame among ${page.frames().map((f) => f.url())}`);
  return frame;
}

async function chatkitOptions(): Promise<Record<string, unknown>> {
  const handle = await shellFrame().waitForFunction(
    () => (window as unknown as { chatkitOptions?: unknown }).chatkitOptions,
    undefined,
    { timeout: 20_000 },
  );
  return (await handle.jsonValue()) as Record<string, unknown>;
}

/** Acts as ChatKit: sends a request through the `api.fetch` the shell gave it. */
const chatkitRequest = (body: unknown, url?: string) =>
  shellFrame().evaluate(
    ([b, u]) =>
      (
        document.querySelector("openai-chatkit") as unknown as {
          request(b: unknown, u?: string): Promise<{ status: number }>;
        }
      ).request(b, u),
    [body, url] as const,
  );

const chatkitEmit = (name: string, detail?: unknown) =>
  shellFrame().evaluate(
    ([n, d]) =>
      (document.querySelector("openai-chatkit") as unknown as { emit(n: string, d: unknown): void }).emit(
        n as string,
        d,
      ),
    [name, detail] as const,
  );

const NEW_THREAD = {
  type: "threads.create",
  params: {
    input: { content: [{ type: "input_text", text: "hi" }], attachments: [], inference_options: {} },
  },
};

async function startedShell() {
  await openPanel();
  await waitForMessage("hello");
  await send({ type: "init", token, page: PAGE });
  return chatkitOptions();
}

describe("GET /chatkit/panel", () => {
  it("serves the built page with a CSP that allows ChatKit's CDN and only the extension as its parent", async () => {
    const res = await fetch(`${gw.baseUrl}/chatkit/panel`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("x-frame-options")).toBeNull();
    const csp = Object.fromEntries(
      res.headers
        .get("content-security-policy")!
        .split(";")
        .map((d) => d.trim().split(/\s+/))
        .map(([name, ...values]) => [name, values]),
    );
    expect(csp).toEqual({
      "default-src": ["'none'"],
      "script-src": ["'self'", "https://cdn.platform.openai.com"],
      "frame-src": ["https://cdn.platform.openai.com"],
      "connect-src": ["'self'"],
      "style-src": ["'self'", "'unsafe-inline'"],
      "img-src": ["'self'"],
      "base-uri": ["'none'"],
      "form-action": ["'none'"],
      "frame-ancestors": [panel.origin, "moz-extension:"],
    });

    const html = await res.text();
    const config = JSON.parse(
      html.match(/<script type="application\/json" id="margin-config">(.*?)<\/script>/)![1]!,
    );
    expect(config).toMatchObject({
      apiUrl: "/chatkit",
      domainKey: LOCALHOST_DOMAIN_KEY,
      scriptUrl: CHATKIT_SCRIPT_URL,
      parentOrigins: [panel.origin],
    });
    // The page has no inline script to allow: only the bundle from this origin.
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    expect(scripts.filter((s) => !s.includes('type="application/json"'))).toEqual([
      expect.stringMatching(/type="module"[^>]*src="\/chatkit\/panel\/assets\/[\w.-]+\.js"/),
    ]);
    const bundle = await fetch(`${gw.baseUrl}${html.match(/src="(\/chatkit\/panel\/assets\/[^"]+)"/)![1]}`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get("content-type")).toMatch(/javascript/);
    expect((await fetch(`${gw.baseUrl}/chatkit/panel/assets/missing.js`)).status).toBe(404);
  });

  it("gives ChatKit the API, domain key, start prompts, the token and the page context", async () => {
    const options = await startedShell();
    expect(options).toMatchObject({
      api: { url: "/chatkit", domainKey: LOCALHOST_DOMAIN_KEY, fetch: "[function]" },
      frameTitle: "Margin chat",
      history: { enabled: true, showDelete: true, showRename: true },
      theme: { colorScheme: "light", density: "compact" },
    });
    expect((options.startScreen as { prompts: { label: string }[] }).prompts.map((p) => p.label)).toEqual([
      "What's due today?",
      "Save this page for tomorrow",
      "Make tasks from my selection",
    ]);

    await chatkitRequest(NEW_THREAD);
    await chatkitRequest({ type: "threads.list", params: { limit: 20, order: "desc" } });
    const later = { url: "https://example.org/next", title: "Next tab" };
    await send({ type: "page", page: later });
    await chatkitRequest({ type: "threads.add_user_message", params: { thread_id: "thr_1", input: {} } });

    expect(chatkitCalls.map((c) => c.headers.authorization)).toEqual(Array(3).fill(`Bearer ${token}`));
    // A turn carries the page the user is on; a listing does not need it.
    expect(chatkitCalls.map((c) => (c.body.metadata as { page?: unknown } | undefined)?.page)).toEqual([
      PAGE,
      undefined,
      later,
    ]);
    expect(chatkitCalls[0]!.body).toMatchObject({ type: "threads.create", params: NEW_THREAD.params });
    // Every request says how the browser shows times, so the server's widgets show them the same way.
    const locale = await page.evaluate(() => {
      const { locale, hourCycle } = new Intl.DateTimeFormat(undefined, { hour: "numeric" }).resolvedOptions();
      return new Intl.Locale(locale, { hourCycle }).toString();
    });
    expect(chatkitCalls.map((c) => (c.body.metadata as { locale?: unknown }).locale)).toEqual(
      Array(3).fill(locale),
    );
  });

  it("follows the panel's color scheme and opens the thread it asks for", async () => {
    await openPanel();
    await waitForMessage("hello");
    await send({ type: "init", token, page: null, colorScheme: "dark", threadId: "thr_abc" });
    expect(await chatkitOptions()).toMatchObject({
      theme: { colorScheme: "dark" },
      initialThread: "thr_abc",
    });
  });

  it("tells the panel about ChatKit's readiness, effects, errors, thread changes and a rejected token", async () => {
    await startedShell();
    await chatkitEmit("chatkit.ready");
    await chatkitEmit("chatkit.effect", { name: "tasks.changed", data: { ids: ["t1"] } });
    await chatkitEmit("chatkit.error", { error: new Error("Stream failed") });
    await chatkitEmit("chatkit.thread.change", { threadId: "thr_9" });
    await send({ type: "token", token: "revoked-token" });
    // Any endpoint of the gateway refuses the token the same way.
    const rejected = await chatkitRequest({ title: "x" }, "/api/tasks");
    expect(rejected.status).toBe(401);
    await waitForMessage("auth-error");

    const messages = await received();
    expect(messages.every((m) => m.origin === gw.baseUrl)).toBe(true);
    expect(messages.map((m) => m.data)).toEqual([
      { source: "margin-chatkit", type: "hello" },
      { source: "margin-chatkit", nonce, type: "ready" },
      { source: "margin-chatkit", nonce, type: "effect", name: "tasks.changed", data: { ids: ["t1"] } },
      { source: "margin-chatkit", nonce, type: "error", message: "Stream failed" },
      { source: "margin-chatkit", nonce, type: "thread", threadId: "thr_9" },
      { source: "margin-chatkit", nonce, type: "auth-error" },
    ]);
  });

  it("ignores messages with the wrong nonce or from another frame", async () => {
    await openPanel({ intruder: true });
    await waitForMessage("hello");
    await send({ type: "init", token, page: PAGE });
    await chatkitOptions();

    await send({ type: "token", token: "wrong-nonce-token" }, { nonce: "f".repeat(32) });
    const intruder = page.frames().find((f) => f.url().startsWith(stranger.origin))!;
    await send({ type: "token", token: "intruder-token" }, { from: intruder });
    await send(
      { type: "page", page: { url: "https://intruder.example", title: "Intruder" } },
      { from: intruder },
    );
    await chatkitRequest(NEW_THREAD);
    expect(chatkitCalls.at(-1)!.headers.authorization).toBe(`Bearer ${token}`);
    expect((chatkitCalls.at(-1)!.body.metadata as { page: unknown }).page).toEqual(PAGE);
  });

  it("cannot be framed by a site that is not the extension", async () => {
    await openPanel({ from: stranger });
    await page.waitForFunction(() => (window as unknown as { frameLoaded: boolean }).frameLoaded);
    expect(await received()).toEqual([]);
    expect(page.frames().some((f) => f.url().startsWith(`${gw.baseUrl}/chatkit/panel`))).toBe(false);
  });

  it("blocks connections and scripts beyond its own origin and ChatKit's CDN", async () => {
    await startedShell();
    const outcome = await shellFrame().evaluate(async (elsewhere) => {
      const violations: string[] = [];
      document.addEventListener("securitypolicyviolation", (e) => violations.push(e.effectiveDirective));
      const fetched = await fetch(`${elsewhere}/data`).then(
        () => "fetched",
        () => "blocked",
      );
      const script = document.createElement("script");
      script.src = `${elsewhere}/evil.js`;
      const loaded = await new Promise((resolve) => {
        script.onload = () => resolve("loaded");
        script.onerror = () => resolve("blocked");
        document.head.append(script);
      });
      return { fetched, loaded, violations };
    }, stranger.origin);
    expect(outcome).toEqual({
      fetched: "blocked",
      loaded: "blocked",
      violations: ["connect-src", "script-src-elem"],
    });
  });

  it("tells the panel when ChatKit's script cannot load", async () => {
    await context.unroute(CHATKIT_SCRIPT_URL);
    await context.route(CHATKIT_SCRIPT_URL, (route) => route.abort("internetdisconnected"));
    await openPanel();
    await waitForMessage("hello");
    await send({ type: "init", token, page: PAGE });
    const unavailable = await waitForMessage("unavailable");
    expect(unavailable).toEqual({
      origin: gw.baseUrl,
      data: {
        source: "margin-chatkit",
        nonce,
        type: "unavailable",
        reason: "ChatKit's script could not be loaded from cdn.platform.openai.com.",
      },
    });
    expect(await shellFrame().getByRole("alert").textContent()).toContain("Chat could not load");
  });
});

describe("the shell page on its own", () => {
  async function serve(opts: { dir: string; loadTimeoutMs?: number }) {
    const app = express();
    const server = app.listen(0, "127.0.0.1");
    await once(server, "listening");
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    app.use(
      createPanelPageRouter({ publicUrl: new URL(baseUrl), extensionOrigins: [panel.origin], ...opts }),
    );
    return {
      baseUrl,
      close: () => {
        server.closeAllConnections();
        return new Promise((resolve) => server.close(resolve));
      },
    };
  }

  it("says how to build it when it has not been built", async () => {
    const shell = await serve({ dir: "/nonexistent/margin-panel" });
    try {
      const res = await fetch(`${shell.baseUrl}/chatkit/panel`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain("pnpm --filter @margin/gateway build");
    } finally {
      await shell.close();
    }
  });

  it("gives up on a ChatKit script that never defines its element, and tells the panel", async () => {
    const shell = await serve({ dir: panelDir, loadTimeoutMs: 300 });
    try {
      await context.unroute(CHATKIT_SCRIPT_URL);
      await context.route(CHATKIT_SCRIPT_URL, (route) =>
        route.fulfill({ contentType: "text/javascript", body: "/* defines nothing */" }),
      );
      const params = new URLSearchParams({ gateway: shell.baseUrl, nonce });
      await page.goto(`${panel.origin}/?${params}`);
      await waitForMessage("hello");
      await page.evaluate(
        ([t]) => (window as unknown as { send(m: unknown): void }).send({ type: "init", token: t }),
        [token] as const,
      );
      expect((await waitForMessage("unavailable")).data.reason).toBe("ChatKit did not start within 0.3 s.");
    } finally {
      await shell.close();
    }
  });
});
