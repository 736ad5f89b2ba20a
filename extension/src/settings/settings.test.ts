import { beforeEach, describe, expect, it } from "vitest";
import { browser } from "wxt/browser";
import { fakeBrowser } from "wxt/testing/fake-browser";
import { currentConnection, markSessionExpired, sessionItem } from "../auth/session.ts";
import {
  DEFAULT_GATEWAY_URL,
  gatewayOriginPattern,
  needsHostPermission,
  parseGatewayUrl,
  settingsItem,
} from "./settings.ts";

describe("storage items", () => {
  beforeEach(() => fakeBrowser.reset());

  it("settings default to the local gateway and ChatKit", async () => {
    expect(await settingsItem.getValue()).toEqual({ gatewayUrl: DEFAULT_GATEWAY_URL, chatMode: "chatkit" });
  });

  it("keeps the session token in local storage only, never sync", async () => {
    await sessionItem.setValue({
      token: "secret-token",
      gatewayUrl: DEFAULT_GATEWAY_URL,
      user: { id: "u", email: "a@example.com", timezone: "UTC" },
    });
    expect(JSON.stringify(await browser.storage.local.get(null))).toContain("secret-token");
    expect(JSON.stringify(await browser.storage.sync.get(null))).not.toContain("secret-token");
    expect(await currentConnection()).toEqual({ gatewayUrl: DEFAULT_GATEWAY_URL, token: "secret-token" });
  });

  it("an expired session stops being used, but only for the token that was refused", async () => {
    await sessionItem.setValue({
      token: "new",
      gatewayUrl: DEFAULT_GATEWAY_URL,
      user: { id: "u", email: "e", timezone: "UTC" },
    });
    await markSessionExpired("old"); // a late answer to a request made with an older token
    expect(await currentConnection()).not.toBeNull();
    await markSessionExpired("new");
    expect(await currentConnection()).toBeNull();
    expect((await sessionItem.getValue())?.expired).toBe(true);
  });
});

describe("gateway URL", () => {
  it("is made canonical, and anything but http(s) is refused with a reason", () => {
    expect(parseGatewayUrl(" https://margin.example.com/base/ ")).toEqual({
      ok: true,
      url: "https://margin.example.com/base",
    });
    expect(parseGatewayUrl("http://localhost:8787/?x=1")).toEqual({ ok: true, url: "http://localhost:8787" });
    expect(parseGatewayUrl("ftp://x")).toMatchObject({ ok: false, error: expect.stringMatching(/http/) });
    expect(parseGatewayUrl("not a url")).toMatchObject({ ok: false });
  });

  it("needs a host permission at run time except for this machine's default addresses", () => {
    expect(needsHostPermission("http://localhost:8787")).toBe(false);
    expect(needsHostPermission("http://127.0.0.1:9999")).toBe(false);
    expect(needsHostPermission("https://margin.example.com")).toBe(true);
    expect(needsHostPermission("https://localhost")).toBe(true);
    expect(gatewayOriginPattern("https://margin.example.com:8443/base")).toBe("https://margin.example.com/*");
  });
});
