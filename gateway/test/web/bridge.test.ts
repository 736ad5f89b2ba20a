import { describe, expect, it } from "vitest";
import { chatkitDomainKey, LOCALHOST_DOMAIN_KEY } from "../../src/http/panel-page.ts";
import { acceptPanelMessage, type BridgeState, createShellBridge, readNonce } from "../../web/src/bridge.ts";
import { clockLocale, createChatKitFetch, withLocale, withPageContext } from "../../web/src/chatkit-fetch.ts";

const EXTENSION = "chrome-extension://abcdefghijklmnopabcdefghijklmnop";
const FIREFOX = "moz-extension://3f2b1c4d-5e6f-4a1b-9c2d-7e8f9a0b1c2d";
const NONCE = "n".repeat(32);
const parent = { name: "the panel" };
const state = (over: Partial<BridgeState> = {}): BridgeState => ({
  parent,
  nonce: NONCE,
  allowedOrigins: [EXTENSION],
  parentOrigin: null,
  ...over,
});
const init = { source: "margin-panel", nonce: NONCE, type: "init", token: "tok" };

describe("the shell's side of the bridge", () => {
  it("accepts the panel's init from a listed origin, or from a Firefox extension with the nonce", () => {
    expect(acceptPanelMessage({ source: parent, origin: EXTENSION, data: init }, state())).toMatchObject({
      type: "init",
      token: "tok",
    });
    expect(acceptPanelMessage({ source: parent, origin: FIREFOX, data: init }, state())).not.toBeNull();
  });

  it.each([
    ["another window", { source: {}, origin: EXTENSION, data: init }],
    ["an unlisted origin", { source: parent, origin: "https://evil.example", data: init }],
    ["another Chrome extension", { source: parent, origin: "chrome-extension://zzzz", data: init }],
    ["the wrong nonce", { source: parent, origin: EXTENSION, data: { ...init, nonce: "x".repeat(32) } }],
    ["no nonce", { source: parent, origin: EXTENSION, data: { ...init, nonce: undefined } }],
    ["another sender", { source: parent, origin: EXTENSION, data: { ...init, source: "someone" } }],
    ["no token", { source: parent, origin: EXTENSION, data: { ...init, token: "" } }],
    ["a token before init", { source: parent, origin: EXTENSION, data: { ...init, type: "token" } }],
    [
      "an oversized page",
      { source: parent, origin: EXTENSION, data: { ...init, page: { url: "x".repeat(5000), title: "" } } },
    ],
  ])("refuses a message from %s", (_why, event) => {
    expect(acceptPanelMessage(event, state())).toBeNull();
  });

  it("after the handshake hears only the origin it verified", () => {
    const verified = state({ parentOrigin: EXTENSION });
    const token = { ...init, type: "token", token: "next" };
    expect(acceptPanelMessage({ source: parent, origin: EXTENSION, data: token }, verified)).not.toBeNull();
    expect(acceptPanelMessage({ source: parent, origin: FIREFOX, data: token }, verified)).toBeNull();
  });

  it("says hello to anyone, but sends nothing else before the handshake, then only to the panel", () => {
    const posted: { message: unknown; origin: string }[] = [];
    let listener: ((e: { source: unknown; origin: string; data: unknown }) => void) | undefined;
    const win = {
      parent: { postMessage: (message: unknown, origin: string) => posted.push({ message, origin }) },
      addEventListener: (_t: "message", l: typeof listener) => {
        listener = l;
      },
      removeEventListener: () => {},
    };
    const heard: unknown[] = [];
    const bridge = createShellBridge({
      window: win,
      nonce: NONCE,
      allowedOrigins: [EXTENSION],
      onMessage: (m) => heard.push(m.type),
    });
    bridge.send({ type: "unavailable", reason: "offline" });
    expect(posted).toEqual([{ message: { source: "margin-chatkit", type: "hello" }, origin: "*" }]);

    listener!({ source: win.parent, origin: EXTENSION, data: init });
    expect(heard).toEqual(["init"]);
    expect(posted.slice(1)).toEqual([
      {
        message: { source: "margin-chatkit", nonce: NONCE, type: "unavailable", reason: "offline" },
        origin: EXTENSION,
      },
    ]);
  });

  it("reads the nonce from the frame URL's fragment", () => {
    expect(readNonce(`#nonce=${NONCE}`)).toBe(NONCE);
    expect(readNonce("#nonce=short")).toBeNull();
    expect(readNonce("")).toBeNull();
  });
});

describe("ChatKit's requests", () => {
  const page = { url: "https://example.com/", title: "Example", selection: "buy milk" };

  it("carry the page only on requests that start a turn, next to any metadata already there", () => {
    const turn = JSON.stringify({ type: "threads.add_user_message", params: {}, metadata: { a: 1 } });
    expect(JSON.parse(withPageContext(turn, page))).toEqual({
      type: "threads.add_user_message",
      params: {},
      metadata: { a: 1, page },
    });
    const listing = JSON.stringify({ type: "threads.list", params: {} });
    expect(withPageContext(listing, page)).toBe(listing);
    expect(withPageContext("not json", page)).toBe("not json");
    expect(withPageContext(turn, null)).toBe(turn);
  });

  it("all carry the browser's locale with its hour cycle, next to any metadata already there", () => {
    const turn = JSON.stringify({ type: "threads.create", params: {}, metadata: { page } });
    expect(JSON.parse(withLocale(turn, "en-US-u-hc-h12")).metadata).toEqual({
      page,
      locale: "en-US-u-hc-h12",
    });
    const sync = JSON.stringify({ type: "threads.sync_custom_action", params: {} });
    expect(JSON.parse(withLocale(sync, "de-DE-u-hc-h23")).metadata).toEqual({ locale: "de-DE-u-hc-h23" });
    expect(withLocale("not json", "en-GB")).toBe("not json");
    expect(clockLocale()).toMatch(/-u-hc-h(11|12|23|24)$/);
  });

  it("carry the current token and report a 401", async () => {
    const seen: Headers[] = [];
    let session = { token: "one", page: null };
    let unauthorized = 0;
    const apiFetch = createChatKitFetch({
      session: () => session,
      onUnauthorized: () => unauthorized++,
      fetch: async (_url, init) => {
        seen.push(new Headers(init?.headers));
        return new Response("{}", { status: seen.length === 2 ? 401 : 200 });
      },
    });
    await apiFetch("/chatkit", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    session = { token: "two", page: null };
    await apiFetch("/chatkit", { method: "POST", body: "{}" });
    expect(seen.map((h) => h.get("authorization"))).toEqual(["Bearer one", "Bearer two"]);
    expect(seen[0]!.get("content-type")).toBe("application/json");
    expect(unauthorized).toBe(1);
  });
});

describe("ChatKit's domain key", () => {
  it("is the configured one, a placeholder on localhost, and none elsewhere", () => {
    expect(chatkitDomainKey(new URL("https://margin.example.com"), "domain_pk_123")).toBe("domain_pk_123");
    expect(chatkitDomainKey(new URL("http://127.0.0.1:8787"), undefined)).toBe(LOCALHOST_DOMAIN_KEY);
    expect(chatkitDomainKey(new URL("http://localhost:8787"), undefined)).toBe(LOCALHOST_DOMAIN_KEY);
    expect(chatkitDomainKey(new URL("https://margin.example.com"), undefined)).toBeNull();
  });
});
