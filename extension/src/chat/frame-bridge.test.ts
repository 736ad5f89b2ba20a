import { describe, expect, it } from "vitest";
import { acceptShellMessage, createPanelBridge } from "./frame-bridge.ts";
import { newNonce, toPageContext } from "./frame-protocol.ts";

const GATEWAY = "http://127.0.0.1:8787";
const NONCE = "0123456789abcdef0123456789abcdef";
const frame = { postMessage: () => {} };
const expected = { frame, origin: GATEWAY, nonce: NONCE };
const ready = { source: "margin-chatkit", nonce: NONCE, type: "ready" };

describe("the panel's side of the ChatKit frame bridge", () => {
  it("accepts the frame's hello without a nonce, and later messages only with it", () => {
    const hello = { source: "margin-chatkit", type: "hello" };
    expect(acceptShellMessage({ source: frame, origin: GATEWAY, data: hello }, expected)).toEqual(hello);
    expect(acceptShellMessage({ source: frame, origin: GATEWAY, data: ready }, expected)).toEqual(ready);
  });

  it.each([
    ["another window", { source: {}, origin: GATEWAY, data: ready }],
    ["another origin", { source: frame, origin: "https://evil.example", data: ready }],
    ["the wrong nonce", { source: frame, origin: GATEWAY, data: { ...ready, nonce: "x".repeat(32) } }],
    ["another sender", { source: frame, origin: GATEWAY, data: { ...ready, source: "someone" } }],
    ["an unknown type", { source: frame, origin: GATEWAY, data: { ...ready, type: "token" } }],
  ])("refuses a message from %s", (_why, event) => {
    expect(acceptShellMessage(event, expected)).toBeNull();
  });

  it("answers hello with init to the gateway's origin only, then forwards messages and sends updates", () => {
    const posted: { message: Record<string, unknown>; origin: string }[] = [];
    const target = {
      postMessage: (message: Record<string, unknown>, origin: string) => posted.push({ message, origin }),
    };
    let listener: ((e: { source: unknown; origin: string; data: unknown }) => void) | undefined;
    const received: unknown[] = [];
    const bridge = createPanelBridge({
      window: {
        addEventListener: (_t, l) => (listener = l),
        removeEventListener: () => (listener = undefined),
      },
      frame: () => target,
      gatewayOrigin: GATEWAY,
      nonce: NONCE,
      init: () => ({ type: "init", token: "tok", page: null, threadId: null }),
      onMessage: (m) => received.push(m),
    });
    bridge.send({ type: "token", token: "early" });
    expect(posted).toEqual([]); // nothing before the frame said hello

    listener!({ source: target, origin: GATEWAY, data: { source: "margin-chatkit", type: "hello" } });
    expect(posted).toEqual([
      {
        message: {
          source: "margin-panel",
          nonce: NONCE,
          type: "init",
          token: "tok",
          page: null,
          threadId: null,
        },
        origin: GATEWAY,
      },
    ]);
    listener!({
      source: target,
      origin: GATEWAY,
      data: { ...ready, type: "effect", name: "tasks.changed", data: {} },
    });
    expect(received).toEqual([{ ...ready, type: "effect", name: "tasks.changed", data: {} }]);
    bridge.send({ type: "page", page: { url: "https://a.example/", title: "A" } });
    expect(posted[1]).toEqual({
      message: {
        source: "margin-panel",
        nonce: NONCE,
        type: "page",
        page: { url: "https://a.example/", title: "A" },
      },
      origin: GATEWAY,
    });
    bridge.close();
    expect(listener).toBeUndefined();
  });

  it("makes nonces the shell accepts and page contexts within its limits", () => {
    expect(newNonce()).toMatch(/^[0-9a-f]{32}$/);
    expect(newNonce()).not.toBe(newNonce());
    const page = toPageContext({
      url: "https://a.example/",
      title: "t".repeat(2000),
      selection: "",
      excerpt: "e".repeat(30_000),
    });
    expect(page).toEqual({ url: "https://a.example/", title: "t".repeat(1000), excerpt: "e".repeat(20_000) });
    expect(toPageContext({ url: `https://a.example/${"x".repeat(5000)}`, title: "" })).toBeNull();
    expect(toPageContext(null)).toBeNull();
  });
});
