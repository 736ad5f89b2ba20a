import type { RequestHandler } from "express";

// `/` for someone who opens the gateway's URL in a browser: what this server is and where to go next.
// Static, no script; linked only to pages this server serves itself.

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Margin gateway</title>
<style>
:root { color-scheme: light dark; font-family: system-ui, sans-serif; }
body { margin: 0; display: grid; place-items: start center; background: Canvas; color: CanvasText; }
main { width: min(34rem, 100% - 2rem); margin-top: 10vh; line-height: 1.5; }
code { font-size: .95em; }
li { margin: .3rem 0; }
</style>
</head>
<body>
<main>
  <h1>Margin</h1>
  <p>This is a Margin gateway: the server behind the Margin browser extension, which turns pages you read into
  tasks and lets you chat with your list.</p>
  <ul>
    <li><a href="/device">Sign in or create an account, and connect a browser</a> (the extension sends you here).</li>
    <li><a href="/account">Your account</a>: export your data (JSON, or CSV for Todoist), import tasks, delete the account.</li>
    <li>MCP clients (Claude Desktop, Cursor, the MCP Inspector) connect to <code>/mcp</code> with a personal API key.</li>
    <li>Health: <a href="/healthz">/healthz</a> · readiness: <a href="/readyz">/readyz</a> · metrics: <a href="/metrics">/metrics</a>.</li>
  </ul>
  <p>Setting it up, the API and troubleshooting are in the README of the Margin repository.</p>
</main>
</body>
</html>`;

export const homePage: RequestHandler = (_req, res) => {
  res
    .set({
      "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
      "X-Content-Type-Options": "nosniff",
    })
    .type("html")
    .send(PAGE);
};
