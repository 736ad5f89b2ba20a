// The RFC 8628 verification page: sign in (or up), then approve or deny the code the extension shows.
// Self-contained (no CDN, no external assets) so a strict CSP can allow exactly one inline script and style.

import { escapeHtml, pageHeaders } from "../http/page-shell.ts";

/** Headers for the page; `nonce` must be the one passed to `renderDevicePage`. It posts with fetch, no forms. */
export const devicePageHeaders = (nonce: string) =>
  pageHeaders({ nonce, script: true, formAction: ["'none'"], referrer: "no-referrer" });

export function renderDevicePage(opts: { nonce: string; userCode: string }): string {
  const nonce = escapeHtml(opts.nonce);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Connect a device · Margin</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<main>
  <h1>Connect a device to Margin</h1>
  <p class="lead">Enter the code your browser extension shows, sign in, then approve it.</p>
  <!-- method=post and form-action 'none': a password must never land in a URL, even if the script fails. -->
  <form id="device-form" method="post" autocomplete="on" novalidate>
    <label for="user_code">Code from the extension</label>
    <input id="user_code" name="user_code" value="${escapeHtml(opts.userCode)}" autocomplete="off"
      autocapitalize="characters" spellcheck="false" maxlength="64" required>
    <section id="signed-out" hidden>
      <label for="email">Email</label>
      <input id="email" name="email" type="email" autocomplete="username" required>
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" minlength="8" required>
      <div class="actions">
        <button type="submit" data-action="sign-in">Sign in</button>
        <button type="submit" data-action="sign-up" class="secondary">Create account</button>
      </div>
    </section>
    <section id="signed-in" hidden>
      <p>Signed in as <strong id="who"></strong>. <button type="button" id="sign-out" class="link">Not you?</button></p>
      <div class="actions">
        <button type="submit" data-action="approve">Approve</button>
        <button type="submit" data-action="deny" class="secondary">Deny</button>
      </div>
    </section>
  </form>
  <p id="status" role="status" aria-live="polite"></p>
  <noscript><p class="error">This page needs JavaScript.</p></noscript>
</main>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>`;
}

const STYLE = `
:root { color-scheme: light dark; font-family: system-ui, sans-serif; }
body { margin: 0; display: grid; place-items: start center; min-height: 100vh; background: Canvas; color: CanvasText; }
main { width: min(26rem, 100% - 2rem); margin-top: 12vh; }
h1 { font-size: 1.4rem; margin-bottom: .25rem; }
.lead { opacity: .8; margin-top: 0; }
label { display: block; margin: .9rem 0 .3rem; font-weight: 600; }
input { box-sizing: border-box; width: 100%; padding: .55rem .6rem; font-size: 1rem; border: 1px solid #8888; border-radius: 6px; background: Field; color: FieldText; }
#user_code { font-family: ui-monospace, monospace; font-size: 1.3rem; letter-spacing: .15em; text-transform: uppercase; }
.actions { display: flex; gap: .6rem; margin-top: 1.1rem; }
button { padding: .55rem 1rem; font-size: 1rem; border-radius: 6px; border: 1px solid #2563eb; background: #2563eb; color: #fff; cursor: pointer; }
button.secondary { background: transparent; color: inherit; border-color: #8888; }
button.link { padding: 0; border: 0; background: none; color: #2563eb; text-decoration: underline; font-size: inherit; }
button:disabled { opacity: .6; cursor: progress; }
#status { min-height: 1.5rem; margin-top: 1.2rem; }
.ok { color: #15803d; } .error { color: #b91c1c; }
`;

// Plain browser JS. Fetches are relative, so the page works under a path prefix; same-origin requests carry
// the session cookie and an Origin header equal to the gateway's own (trusted) origin.
const SCRIPT = `
"use strict";
const $ = (id) => document.getElementById(id);
const form = $("device-form"), statusLine = $("status");
const api = (path, body) => fetch("api/auth/" + path, body === undefined
  ? { credentials: "same-origin" }
  : { method: "POST", credentials: "same-origin", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
const read = async (res) => { try { return await res.json(); } catch { return null; } };
const say = (text, kind) => { statusLine.textContent = text; statusLine.className = kind || ""; };
const show = (email) => {
  $("signed-out").hidden = !!email;
  $("signed-in").hidden = !email;
  $("who").textContent = email || "";
};
const CODE_ERRORS = {
  expired_token: "This code has expired. Start again from the extension to get a new one.",
  invalid_request: "That code is unknown or was already used. Check it, or start again from the extension.",
};

const messageOf = (data) => (data && data.error && data.error.message) || (data && data.message);

async function signIn(action) {
  const email = $("email").value.trim(), password = $("password").value;
  if (!email || !password) return say("Enter your email and password.", "error");
  if (action === "sign-up") {
    // Sign-up answers the same whether or not the email is taken; signing in next tells them apart.
    const created = await api("sign-up/email",
      { email, password, name: email.split("@")[0], timezone: Intl.DateTimeFormat().resolvedOptions().timeZone });
    if (!created.ok) {
      const data = await read(created);
      return say(messageOf(data) || "Could not create the account (HTTP " + created.status + ").", "error");
    }
  }
  const res = await api("sign-in/email", { email, password });
  const data = await read(res);
  if (res.ok) { $("password").value = ""; show(data.user.email); return say("Signed in. Now approve or deny the code.", ""); }
  if (res.status === 401) {
    return say(action === "sign-up"
      ? "Could not sign in with that password. If you already have an account with this email, sign in with its password."
      : "Wrong email or password.", "error");
  }
  if (res.status === 429) return say(messageOf(data) || "Too many attempts. Wait a moment and try again.", "error");
  say(messageOf(data) || "Could not sign in (HTTP " + res.status + ").", "error");
}

async function decide(action) {
  const userCode = $("user_code").value.replace(/[^a-z0-9]/gi, "").toUpperCase();
  if (!userCode) return say("Enter the code the extension shows.", "error");
  // The code must be claimed by this session before it can be approved or denied.
  const claim = await api("device?user_code=" + encodeURIComponent(userCode));
  const claimed = await read(claim);
  if (!claim.ok) return say(CODE_ERRORS[claimed && claimed.error] || "Could not check the code (HTTP " + claim.status + ").", "error");
  if (claimed.status !== "pending") return say("This code was already " + claimed.status + ". Start again from the extension.", "error");
  const res = await api("device/" + action, { userCode });
  const data = await read(res);
  if (res.ok) {
    form.hidden = true;
    return action === "approve"
      ? say("Approved. Return to the extension; it finishes signing in by itself.", "ok")
      : say("Denied. The extension was not signed in.", "ok");
  }
  if (res.status === 401) { show(""); return say("Your session ended. Sign in again.", "error"); }
  say(CODE_ERRORS[data && data.error] || (data && data.error_description) || messageOf(data) || "Failed (HTTP " + res.status + ").", "error");
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  // Enter submits via the first button even when its section is hidden; only trust visible buttons.
  const visible = event.submitter && !event.submitter.closest("[hidden]");
  const action = visible ? event.submitter.dataset.action : $("signed-in").hidden ? "sign-in" : null;
  if (!action) return say("Choose Approve or Deny.", "");
  const buttons = form.querySelectorAll("button");
  buttons.forEach((b) => { b.disabled = true; });
  say("Working…", "");
  try {
    await (action === "approve" || action === "deny" ? decide(action) : signIn(action));
  } catch {
    say("Could not reach the server. Check your connection and try again.", "error");
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
});

$("sign-out").addEventListener("click", async () => {
  await api("sign-out", {}).catch(() => {});
  show("");
  say("", "");
});

api("get-session").then(read).then((s) => show(s && s.user ? s.user.email : ""), () => show(""));
`;
