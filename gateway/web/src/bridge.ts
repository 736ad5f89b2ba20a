import {
  PANEL_SOURCE,
  type PanelMessage,
  PanelMessageSchema,
  SHELL_SOURCE,
  type ShellMessage,
} from "./protocol.ts";

type Poster = { postMessage(message: unknown, targetOrigin: string): void };
type IncomingEvent = { source: unknown; origin: string; data: unknown };

// Firefox gives each install a random moz-extension:// origin that no server can list in advance. There the
// nonce, which only the panel that created this frame knows (it is in the frame URL's fragment), is the proof.
const FIREFOX_EXTENSION_ORIGIN =
  /^moz-extension:\/\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isAllowedParentOrigin(origin: string, allowed: readonly string[]): boolean {
  return allowed.includes(origin) || FIREFOX_EXTENSION_ORIGIN.test(origin);
}

/** The nonce the panel put in this frame's URL fragment (`#nonce=…`), or null when there is none. */
export function readNonce(hash: string): string | null {
  const nonce = new URLSearchParams(hash.replace(/^#/, "")).get("nonce");
  return nonce && nonce.length >= 16 ? nonce : null;
}

export type BridgeState = {
  parent: unknown;
  nonce: string;
  allowedOrigins: readonly string[];
  /** The origin of the first accepted `init`; afterwards only that origin is heard. */
  parentOrigin: string | null;
};

/**
 * Decides whether a message event comes from the panel that created this frame: it must come from the parent
 * window, from an allowed origin (then always the same one), carry the frame's nonce and be well formed, and
 * the first one must be `init`.
 */
export function acceptPanelMessage(event: IncomingEvent, state: BridgeState): PanelMessage | null {
  if (event.source !== state.parent) return null;
  const originOk = state.parentOrigin
    ? event.origin === state.parentOrigin
    : isAllowedParentOrigin(event.origin, state.allowedOrigins);
  if (!originOk) return null;
  const parsed = PanelMessageSchema.safeParse(event.data);
  if (!parsed.success || parsed.data.source !== PANEL_SOURCE || parsed.data.nonce !== state.nonce)
    return null;
  if (!state.parentOrigin && parsed.data.type !== "init") return null;
  return parsed.data;
}

export type ShellBridge = {
  /** Sends to the verified panel; messages before the handshake wait for it. */
  send(message: ShellMessage): void;
  close(): void;
};

type BridgeWindow = {
  parent: Poster;
  addEventListener(type: "message", listener: (event: IncomingEvent) => void): void;
  removeEventListener(type: "message", listener: (event: IncomingEvent) => void): void;
};

export function createShellBridge(opts: {
  window: BridgeWindow;
  nonce: string;
  allowedOrigins: readonly string[];
  onMessage(message: PanelMessage): void;
}): ShellBridge {
  const state: BridgeState = {
    parent: opts.window.parent,
    nonce: opts.nonce,
    allowedOrigins: opts.allowedOrigins,
    parentOrigin: null,
  };
  const pending: ShellMessage[] = [];
  const post = (message: ShellMessage, origin: string) =>
    opts.window.parent.postMessage({ ...message, source: SHELL_SOURCE, nonce: opts.nonce }, origin);

  const listener = (event: IncomingEvent) => {
    const message = acceptPanelMessage(event, state);
    if (!message) return;
    if (!state.parentOrigin) {
      state.parentOrigin = event.origin;
      for (const queued of pending.splice(0)) post(queued, event.origin);
    }
    opts.onMessage(message);
  };
  opts.window.addEventListener("message", listener);
  // Carries nothing secret, so it may go to any origin: it only tells the panel that this page is listening.
  opts.window.parent.postMessage({ source: SHELL_SOURCE, type: "hello" }, "*");

  return {
    send(message) {
      if (state.parentOrigin) post(message, state.parentOrigin);
      else pending.push(message);
    },
    close() {
      opts.window.removeEventListener("message", listener);
    },
  };
}
