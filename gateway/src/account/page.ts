// The account page: who you are, your data out (JSON, Todoist CSV), your data in, and deleting the account.
// Self-contained (no CDN) so a strict CSP allows exactly one inline script and style. Every action is a POST
// carrying the CSRF token in its body or a header, never in a URL: URLs reach logs, history and Referer headers.

import { escapeHtml, pageHeaders } from "../http/page-shell.ts";

/** Headers for every account page response; `nonce` must be the one the page was rendered with. */
export const accountPageHeaders = (nonce: string) =>
  pageHeaders({ nonce, script: true, formAction: ["'self'"], referrer: "same-origin" });

export type AccountPageView =
  | { kind: "signed-out" }
  | {
      kind: "signed-in";
      email: string;
      timezone: string;
      csrf: string;
      /** MCP clients the user let in over OAuth. */
      apps: { clientId: string; name: string; uri: string | null; connectedAt: Date | null }[];
      message?: { text: string; kind: "ok" | "error" };
    }
  | { kind: "deleted" };

export function renderAccountPage(nonce: string, view: AccountPageView): string {
  const n = escapeHtml(nonce);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Your account · Margin</title>
<style nonce="${n}">${STYLE}</style>
</head>
<body>
<main>
${body(view)}
</main>
<script nonce="${n}">${SCRIPT}</script>
</body>
</html>`;
}

function body(view: AccountPageView): string {
  if (view.kind === "deleted") {
    return `  <h1>Your account is deleted</h1>
  <p>Your tasks, chats, sessions and keys are gone from this server. Signed-in devices are signed out.</p>`;
  }
  if (view.kind === "signed-out") {
    return `  <h1>Your Margin account</h1>
  <p class="lead">Sign in to export your data, import tasks or delete your account.</p>
  <!-- method=post: a password must never land in a URL, even if the script fails. -->
  <form id="sign-in" method="post" action="account/sign-in">
    <label for="email">Email</label>
    <input id="email" name="email" type="email" autocomplete="username" required>
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <div class="actions"><button type="submit">Sign in</button></div>
  </form>
  <p id="status" role="status" aria-live="polite"></p>`;
  }
  const csrf = `<input type="hidden" name="csrf" value="${escapeHtml(view.csrf)}">`;
  return `  <h1>Your Margin account</h1>
  <p class="lead">Signed in as <strong id="who">${escapeHtml(view.email)}</strong> · times in ${escapeHtml(view.timezone)}
    <button type="button" id="sign-out" class="link">Sign out</button></p>
  ${view.message ? `<p class="${view.message.kind}" role="alert">${escapeHtml(view.message.text)}</p>` : ""}
  <section>
    <h2>Export</h2>
    <p>Everything: all tasks (done and deleted too) with labels, sources, due dates and repeats, and your chats.</p>
    <form method="post" action="account/export" class="actions">
      ${csrf}
      <button type="submit" name="format" value="json">Download JSON</button>
      <button type="submit" name="format" value="csv" class="secondary">Open tasks as CSV for Todoist</button>
    </form>
  </section>
  <section>
    <h2>Import</h2>
    <p>A Margin JSON export or a Todoist CSV export. Importing the same file twice adds nothing new.</p>
    <form id="import" method="post" action="account/import" enctype="multipart/form-data">
      ${csrf}
      <label for="file">File</label>
      <input id="file" name="file" type="file" accept=".json,.csv,application/json,text/csv" required>
      <div class="actions"><button type="submit">Import</button></div>
    </form>
    <p id="import-status" role="status" aria-live="polite"></p>
  </section>
  <section>
    <h2>Connected apps</h2>
    ${appsList(view.apps, csrf)}
  </section>
  <section class="danger">
    <h2>Delete account</h2>
    <p>Deletes your account and everything in it, at once and for good: tasks, change history, chats, sessions
      and API keys. Export first if you want to keep anything.</p>
    <form id="delete" method="post" action="account/delete">
      ${csrf}
      <label for="confirm-password">Your password, to confirm</label>
      <input id="confirm-password" name="password" type="password" autocomplete="current-password" required>
      <div class="actions"><button type="submit" class="destructive">Delete my account</button></div>
    </form>
  </section>`;
}

function appsList(apps: Extract<AccountPageView, { kind: "signed-in" }>["apps"], csrf: string): string {
  if (!apps.length) return "<p>No MCP client (Claude Desktop, Cursor…) is connected with your sign-in.</p>";
  const items = apps.map((app) => {
    const since = app.connectedAt ? ` · since ${app.connectedAt.toISOString().slice(0, 10)}` : "";
    const site = app.uri ? ` · ${escapeHtml(app.uri)}` : "";
    return `<li><strong>${escapeHtml(app.name)}</strong>${site}${since}
      <form method="post" action="account/apps/disconnect" class="inline">${csrf}
        <input type="hidden" name="client_id" value="${escapeHtml(app.clientId)}">
        <button type="submit" class="secondary">Disconnect</button>
      </form></li>`;
  });
  return `<p>These can read and change your tasks. Disconnecting one ends its access at once.</p>
    <ul class="apps">${items.join("")}</ul>`;
}

const STYLE = `
:root { color-scheme: light dark; font-family: system-ui, sans-serif; }
body { margin: 0; display: grid; place-items: start center; background: Canvas; color: CanvasText; }
main { width: min(34rem, 100% - 2rem); margin: 8vh 0; line-height: 1.45; }
h1 { font-size: 1.4rem; margin-bottom: .25rem; } h2 { font-size: 1.1rem; margin: 0 0 .3rem; }
section { border: 1px solid #8884; border-radius: 8px; padding: 1rem; margin-top: 1rem; }
section.danger { border-color: #b91c1c88; }
.lead { opacity: .85; margin-top: 0; }
label { display: block; margin: .8rem 0 .3rem; font-weight: 600; }
input[type=email], input[type=password] { box-sizing: border-box; width: 100%; padding: .5rem .6rem; font-size: 1rem; border: 1px solid #8888; border-radius: 6px; background: Field; color: FieldText; }
.actions { display: flex; flex-wrap: wrap; gap: .6rem; margin-top: 1rem; }
button { padding: .5rem 1rem; font-size: 1rem; border-radius: 6px; border: 1px solid #2563eb; background: #2563eb; color: #fff; cursor: pointer; }
button.secondary { background: transparent; color: inherit; border-color: #8888; }
button.destructive { background: #b91c1c; border-color: #b91c1c; }
button.link { padding: 0; border: 0; background: none; color: #2563eb; text-decoration: underline; font-size: inherit; }
.ok { color: #15803d; } .error { color: #b91c1c; }
ul.apps { padding-left: 1.1rem; } ul.apps li { margin: .5rem 0; }
form.inline { display: inline; margin-left: .5rem; } form.inline button { padding: .2rem .6rem; font-size: .9rem; }
`;

// Plain browser JS, same-origin fetches only. Sign-in goes through better-auth (which sets the session cookie
// and checks the Origin); the import sends the chosen file's text with the CSRF token in a header.
const SCRIPT = `
"use strict";
const $ = (id) => document.getElementById(id);
const read = async (res) => { try { return await res.json(); } catch { return null; } };
const messageOf = (data, res) => (data && data.error && data.error.message) || (data && data.message) || ("HTTP " + res.status);

const signIn = $("sign-in");
if (signIn) signIn.addEventListener("submit", async (event) => {
  event.preventDefault();
  const res = await fetch("api/auth/sign-in/email", { method: "POST", credentials: "same-origin",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: $("email").value.trim(), password: $("password").value }) }).catch(() => null);
  if (res && res.ok) return location.reload();
  $("status").className = "error";
  $("status").textContent = !res ? "Could not reach the server." : res.status === 401 ? "Wrong email or password." : messageOf(await read(res), res);
});

const signOut = $("sign-out");
if (signOut) signOut.addEventListener("click", async () => {
  await fetch("api/auth/sign-out", { method: "POST", credentials: "same-origin",
    headers: { "content-type": "application/json" }, body: "{}" }).catch(() => {});
  location.reload();
});

const importForm = $("import");
if (importForm) importForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = $("file").files[0], status = $("import-status");
  if (!file) return;
  status.className = ""; status.textContent = "Importing…";
  const csv = /\\.csv$/i.test(file.name) || file.type === "text/csv";
  const res = await fetch("account/import", { method: "POST", credentials: "same-origin",
    headers: { "content-type": csv ? "text/csv" : "application/json", "x-csrf-token": importForm.elements.csrf.value },
    body: await file.text() }).catch(() => null);
  const data = res && await read(res);
  if (!res || !res.ok) { status.className = "error"; status.textContent = res ? messageOf(data, res) : "Could not reach the server."; return; }
  status.className = "ok";
  status.textContent = "Imported " + data.tasks + " task(s): " + data.created + " new, " + data.already_imported + " already here" +
    (data.without_due ? ", " + data.without_due + " without their past due date" : "") +
    (data.failed.length ? ", " + data.failed.length + " refused: " + data.failed.map((f) => f.title + " (" + f.message + ")").join("; ") : "") + ".";
});

const del = $("delete");
if (del) del.addEventListener("submit", (event) => {
  if (!confirm("Delete your Margin account and all its data for good?")) event.preventDefault();
});
`;
