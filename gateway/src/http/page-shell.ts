// What the gateway's own pages share (device approval, account, OAuth consent): each is self-contained HTML (no
// CDN, no external assets) under a CSP that allows its one nonce'd inline style, and script where it has one.

export const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );

export type PageShell = {
  /** The nonce the page was rendered with. */
  nonce: string;
  /** The page has an inline script, which may call the gateway's own API. */
  script: boolean;
  /** CSP form-action sources; it also governs redirects that follow a form's POST. */
  formAction: string[];
  /**
   * "same-origin" for pages that post forms: with "no-referrer" browsers send `Origin: null` on the page's own
   * posts, which the same-origin check must refuse. Cross-origin requests get no referrer either way.
   */
  referrer: "same-origin" | "no-referrer";
};

/** Headers for every response of such a page: never framed, never cached, nothing loaded from elsewhere. */
export function pageHeaders(page: PageShell): Record<string, string> {
  return {
    "Content-Security-Policy": [
      "default-src 'none'",
      ...(page.script ? [`script-src 'nonce-${page.nonce}'`] : []),
      `style-src 'nonce-${page.nonce}'`,
      ...(page.script ? ["connect-src 'self'"] : []),
      `form-action ${page.formAction.join(" ")}`,
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ].join("; "),
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": page.referrer,
    "X-Content-Type-Options": "nosniff",
  };
}
