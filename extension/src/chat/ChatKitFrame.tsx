import { useEffect, useMemo, useRef, useState } from "react";
import type { Connection } from "../api/client.ts";
import { markSessionExpired } from "../auth/session.ts";
import { createPanelBridge, type PanelBridge } from "./frame-bridge.ts";
import { newNonce, type PageContext } from "./frame-protocol.ts";

/** Longer than the shell page's own script timeout (15 s), so its precise reason usually wins. */
export const READY_TIMEOUT_MS = 20_000;

type Props = {
  conn: Connection;
  page: PageContext | null;
  onEffect(name: string, data: Record<string, unknown>): void;
  /** ChatKit cannot run here: the panel switches to its built-in chat. */
  onUnavailable(reason: string): void;
};

/** OpenAI's ChatKit, inside the gateway's /chatkit/panel frame, fed the token and page over the bridge. */
export function ChatKitFrame({ conn, page, onEffect, onUnavailable }: Props) {
  const frame = useRef<HTMLIFrameElement>(null);
  const nonce = useMemo(newNonce, []);
  const origin = new URL(conn.gatewayUrl).origin;
  const latest = useRef({ conn, page, onEffect, onUnavailable, threadId: null as string | null });
  latest.current = { ...latest.current, conn, page, onEffect, onUnavailable };
  const bridge = useRef<PanelBridge | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let ready = false;
    const timer = setTimeout(
      () => ready || latest.current.onUnavailable(`it did not start within ${READY_TIMEOUT_MS / 1000} s`),
      READY_TIMEOUT_MS,
    );
    bridge.current = createPanelBridge({
      window,
      frame: () => frame.current?.contentWindow,
      gatewayOrigin: origin,
      nonce,
      init: () => ({
        type: "init",
        token: latest.current.conn.token,
        page: latest.current.page,
        threadId: latest.current.threadId,
        colorScheme: matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light",
      }),
      onMessage: (message) => {
        switch (message.type) {
          case "ready":
            ready = true;
            clearTimeout(timer);
            break;
          case "unavailable":
            clearTimeout(timer);
            latest.current.onUnavailable(message.reason);
            break;
          case "effect":
            latest.current.onEffect(message.name, message.data);
            break;
          case "error":
            setError(message.message);
            break;
          case "auth-error":
            void markSessionExpired(latest.current.conn.token);
            break;
          case "thread":
            latest.current.threadId = message.threadId;
            break;
        }
      },
    });
    return () => {
      clearTimeout(timer);
      bridge.current?.close();
      bridge.current = null;
    };
  }, [origin, nonce]);

  useEffect(() => bridge.current?.send({ type: "token", token: conn.token }), [conn.token]);
  useEffect(() => bridge.current?.send({ type: "page", page }), [page]);

  return (
    <section className="chat chat-frame" aria-label="Chat" data-testid="chatkit-chat">
      {error && (
        <p className="banner banner-error" role="alert" data-testid="chat-error">
          {error}{" "}
          <button type="button" className="link-button" onClick={() => setError(null)}>
            Dismiss
          </button>
        </p>
      )}
      <iframe
        ref={frame}
        title="Margin chat"
        src={`${conn.gatewayUrl}/chatkit/panel#nonce=${nonce}`}
        data-testid="chatkit-frame"
      />
    </section>
  );
}
