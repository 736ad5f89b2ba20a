import { PANEL_SOURCE, type PanelMessage, type ShellMessage, ShellMessageSchema } from "./frame-protocol.ts";

type MessageTarget = { postMessage(message: unknown, targetOrigin: string): void };
type IncomingEvent = { source: unknown; origin: string; data: unknown };

/**
 * Whether a message event is the shell page in our frame speaking: it must come from that frame's window and
 * the gateway's origin, be well formed, and (all but the secret-free `hello`) carry the frame's nonce.
 */
export function acceptShellMessage(
  event: IncomingEvent,
  expected: { frame: unknown; origin: string; nonce: string },
): ShellMessage | null {
  if (!expected.frame || event.source !== expected.frame || event.origin !== expected.origin) return null;
  const parsed = ShellMessageSchema.safeParse(event.data);
  if (!parsed.success) return null;
  if (parsed.data.type !== "hello" && parsed.data.nonce !== expected.nonce) return null;
  return parsed.data;
}

type BridgeWindow = {
  addEventListener(type: "message", listener: (event: IncomingEvent) => void): void;
  removeEventListener(type: "message", listener: (event: IncomingEvent) => void): void;
};

export type PanelBridge = {
  /** Sends to the shell page once it said hello (the token only ever goes to the gateway's origin). */
  send(message: Exclude<PanelMessage, { type: "init" }>): void;
  close(): void;
};

/**
 * The panel's end of the bridge. On every `hello` (also after the frame reloads) it answers `init` built from
 * the latest state; other shell messages go to `onMessage`.
 */
export function createPanelBridge(opts: {
  window: BridgeWindow;
  /** The frame's window, read late: the iframe element may be created after the bridge. */
  frame(): MessageTarget | null | undefined;
  gatewayOrigin: string;
  nonce: string;
  init(): Extract<PanelMessage, { type: "init" }>;
  onMessage(message: Exclude<ShellMessage, { type: "hello" }>): void;
}): PanelBridge {
  let greeted = false;
  const post = (message: PanelMessage) =>
    opts.frame()?.postMessage({ ...message, source: PANEL_SOURCE, nonce: opts.nonce }, opts.gatewayOrigin);
  const listener = (event: IncomingEvent) => {
    const message = acceptShellMessage(event, {
      frame: opts.frame(),
      origin: opts.gatewayOrigin,
      nonce: opts.nonce,
    });
    if (!message) return;
    if (message.type === "hello") {
      greeted = true;
      post(opts.init());
      return;
    }
    opts.onMessage(message);
  };
  opts.window.addEventListener("message", listener);
  return {
    send(message) {
      if (greeted) post(message);
    },
    close: () => opts.window.removeEventListener("message", listener),
  };
}
