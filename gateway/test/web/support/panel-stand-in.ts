import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A page that plays the side panel: it frames the shell page with a nonce in the fragment and records what
 * the shell posts. `send(message, nonce?)` posts to the shell, addressed to the gateway's origin.
 * `?intruder=<url>` adds a second frame from another origin, which the shell must not listen to.
 */
const PANEL_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Panel stand-in</title></head>
<body>
<iframe id="shell" title="Chat" style="width: 380px; height: 600px; border: 0"></iframe>
<script>
  const params = new URLSearchParams(location.search);
  const gateway = params.get("gateway");
  const nonce = params.get("nonce");
  const frame = document.getElementById("shell");
  window.received = [];
  window.frameLoaded = false;
  addEventListener("message", (e) => {
    if (e.source === frame.contentWindow) window.received.push({ origin: e.origin, data: e.data });
  });
  frame.addEventListener("load", () => { window.frameLoaded = true; });
  window.send = (message, otherNonce) =>
    frame.contentWindow.postMessage({ source: "margin-panel", nonce: otherNonce ?? nonce, ...message }, gateway);
  frame.src = gateway + "/chatkit/panel#nonce=" + nonce;
  if (params.get("intruder")) {
    const intruder = document.createElement("iframe");
    intruder.id = "intruder";
    intruder.src = params.get("intruder");
    document.body.append(intruder);
  }
</script>
</body></html>`;

/** A page on another origin that, framed next to the shell, posts to it with the right nonce. */
const INTRUDER_HTML = `<!doctype html><title>Intruder</title><script>
  window.postToShell = (message) => parent.frames[0].postMessage(message, "*");
</script>`;

export type StaticServer = { origin: string; close(): Promise<void> };

export async function startPanelStandIn(): Promise<StaticServer> {
  const server: Server = createServer((req, res) => {
    const html = req.url?.startsWith("/intruder") ? INTRUDER_HTML : PANEL_HTML;
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    // "localhost" keeps the origin apart from the gateway's 127.0.0.1 even on the same port range.
    origin: `http://localhost:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * Served in place of OpenAI's chatkit.js: defines <openai-chatkit>, keeps the options it is given (functions
 * shown as "[function]"), and lets the test act as ChatKit would: call `api.fetch`, fire ChatKit's events.
 */
export const CHATKIT_STAND_IN = `
customElements.define("openai-chatkit", class extends HTMLElement {
  setOptions(options) {
    this.options = options;
    window.chatkitOptions = JSON.parse(JSON.stringify(options, (_k, v) => (typeof v === "function" ? "[function]" : v)));
  }
  async request(body, url) {
    const res = await this.options.api.fetch(url ?? this.options.api.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.text() };
  }
  emit(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }
});
`;
