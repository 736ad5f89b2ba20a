import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App, type LoadState } from "./App.tsx";
import { createShellBridge, readNonce } from "./bridge.ts";
import { readShellConfig } from "./config.ts";
import { loadChatKit } from "./load-chatkit.ts";
import { createSessionStore } from "./session.ts";
import "./styles.css";

const root = createRoot(document.getElementById("root")!);
const nonce = readNonce(location.hash);
// The nonce is the panel's secret for this frame; it need not stay in the address.
history.replaceState(null, "", location.pathname + location.search);

if (!nonce || window.parent === window) {
  root.render(
    <main className="notice">
      <h1>Margin chat</h1>
      <p>This page runs inside the Margin side panel. Open the panel from the browser toolbar.</p>
    </main>,
  );
} else {
  const config = readShellConfig(document);
  const store = createSessionStore();
  // Listen before anything else, so the panel's first message cannot be missed.
  const bridge = createShellBridge({
    window,
    nonce,
    allowedOrigins: config.parentOrigins,
    onMessage: store.apply,
  });
  let load: LoadState = { state: "loading" };
  const render = () =>
    root.render(
      <StrictMode>
        <App config={config} store={store} bridge={bridge} load={load} />
      </StrictMode>,
    );
  const fail = (reason: string) => {
    load = { state: "failed", reason };
    bridge.send({ type: "unavailable", reason });
    render();
  };
  render();
  if (!config.domainKey) {
    fail("ChatKit is not configured on this server (CHATKIT_DOMAIN_KEY is not set).");
  } else {
    loadChatKit({ src: config.scriptUrl, timeoutMs: config.loadTimeoutMs, document, customElements }).then(
      () => {
        load = { state: "loaded" };
        render();
      },
      (error: Error) => fail(error.message),
    );
  }
}
