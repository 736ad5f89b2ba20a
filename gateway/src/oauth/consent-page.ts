// The page an MCP client sends the user to: sign in, then allow or deny the client. Plain HTML forms, no
// script, so the CSP allows nothing but one inline style; every form carries a CSRF token.

import { escapeHtml, pageHeaders } from "../http/page-shell.ts";

/** What each scope lets the client do, in the user's words. */
const SCOPE_TEXT: Record<string, string> = {
  tasks: "See, add, change, complete and delete your tasks",
  offline_access: "Stay connected until you disconnect it, without asking you again",
};

export type ConsentView =
  | { kind: "sign-in"; query: string; csrf: string; clientName: string; email?: string; error?: string }
  | {
      kind: "consent";
      query: string;
      csrf: string;
      clientName: string;
      clientUri?: string;
      redirectUri: string;
      scopes: string[];
      email: string;
    }
  | { kind: "error"; message: string };

/**
 * Headers for the page. `formTargets` are the places a form submission may end up after the gateway's
 * redirect (the client's redirect URI): CSP's form-action also governs redirects that follow a POST.
 */
export const consentPageHeaders = (nonce: string, formTargets: string[] = []) =>
  pageHeaders({ nonce, script: false, formAction: ["'self'", ...formTargets], referrer: "same-origin" });

/** The CSP source that lets a form's redirect reach `uri`: its origin, or its scheme for app links. */
export function formTargetOf(uri: string): string | undefined {
  try {
    const url = new URL(uri);
    if (url.protocol === "http:" || url.protocol === "https:") return url.origin;
    return /^[a-z][a-z0-9+.-]*:$/i.test(url.protocol) ? url.protocol : undefined;
  } catch {
    return undefined;
  }
}

export function renderConsentPage(view: ConsentView, nonce: string): string {
  const title = view.kind === "error" ? "Cannot connect" : `Connect ${view.clientName} to Margin`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Margin</title>
<style nonce="${escapeHtml(nonce)}">${STYLE}</style>
</head>
<body>
<main>
${body(view)}
</main>
</body>
</html>`;
}

function hidden(view: { query: string; csrf: string }): string {
  return `<input type="hidden" name="oauth_query" value="${escapeHtml(view.query)}">
  <input type="hidden" name="csrf" value="${escapeHtml(view.csrf)}">`;
}

function body(view: ConsentView): string {
  if (view.kind === "error") {
    return `<h1>Cannot connect</h1>
  <p class="error" role="alert">${escapeHtml(view.message)}</p>
  <p>Go back to the app you were connecting and start again.</p>`;
  }
  const name = `<strong>${escapeHtml(view.clientName)}</strong>`;
  if (view.kind === "sign-in") {
    return `<h1>Sign in to connect ${name}</h1>
  <p class="lead">${name} wants to use your Margin tasks. Sign in first; you will see what it asks for before anything is shared.</p>
  ${view.error ? `<p class="error" role="alert">${escapeHtml(view.error)}</p>` : ""}
  <form method="post" action="consent">
  ${hidden(view)}
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" value="${escapeHtml(view.email ?? "")}" required>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" minlength="8" required>
  <div class="actions">
    <button type="submit" name="action" value="sign-in">Sign in</button>
    <button type="submit" name="action" value="sign-up" class="secondary">Create account</button>
  </div>
  </form>`;
  }
  const scopes = view.scopes
    .map((s) => `<li>${escapeHtml(SCOPE_TEXT[s] ?? s)} <code>${escapeHtml(s)}</code></li>`)
    .join("\n    ");
  const site = view.clientUri ? ` (${escapeHtml(view.clientUri)})` : "";
  return `<h1>Connect ${name} to Margin?</h1>
  <p class="lead">${name}${site} is asking for access to your Margin account <strong>${escapeHtml(view.email)}</strong>. It will be able to:</p>
  <ul>
    ${scopes}
  </ul>
  <p class="note">If you allow, you go back to <code>${escapeHtml(view.redirectUri)}</code>. The app named itself; allow it only if you started this connection.</p>
  <form method="post" action="consent">
  ${hidden(view)}
  <div class="actions">
    <button type="submit" name="action" value="allow">Allow</button>
    <button type="submit" name="action" value="deny" class="secondary">Deny</button>
  </div>
  </form>
  <form method="post" action="consent" class="switch">
  ${hidden(view)}
  <button type="submit" name="action" value="switch-account" class="link">Not ${escapeHtml(view.email)}? Use another account</button>
  </form>`;
}

const STYLE = `
:root { color-scheme: light dark; font-family: system-ui, sans-serif; }
body { margin: 0; display: grid; place-items: start center; min-height: 100vh; background: Canvas; color: CanvasText; }
main { width: min(30rem, 100% - 2rem); margin-top: 10vh; }
h1 { font-size: 1.4rem; }
.lead { opacity: .85; }
li { margin: .4rem 0; }
code { font-size: .85em; opacity: .7; overflow-wrap: anywhere; }
label { display: block; margin: .9rem 0 .3rem; font-weight: 600; }
input { box-sizing: border-box; width: 100%; padding: .55rem .6rem; font-size: 1rem; border: 1px solid #8888; border-radius: 6px; background: Field; color: FieldText; }
.actions { display: flex; gap: .6rem; margin-top: 1.1rem; }
button { padding: .55rem 1rem; font-size: 1rem; border-radius: 6px; border: 1px solid #2563eb; background: #2563eb; color: #fff; cursor: pointer; }
button.secondary { background: transparent; color: inherit; border-color: #8888; }
button.link { padding: 0; border: 0; background: none; color: #2563eb; text-decoration: underline; font-size: .9rem; }
.switch { margin-top: 1.2rem; }
.note { font-size: .9rem; opacity: .8; }
.error { color: #b91c1c; }
`;
