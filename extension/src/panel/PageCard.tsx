import { useState } from "react";
import { browser } from "wxt/browser";
import type { PageInfo } from "../capture/page.ts";
import { sendMessage } from "../messaging/protocol.ts";
import { shortUrl } from "./format.ts";
import { useToasts } from "./Toasts.tsx";

/** The page the user is on: favicon, title, address, selection, and "Save as task". */
export function PageCard({
  page,
  onPermissionGranted,
}: {
  page: PageInfo | null;
  onPermissionGranted: () => void;
}) {
  const toasts = useToasts();
  const [saving, setSaving] = useState(false);
  if (!page) {
    return (
      <section className="page-card page-card-empty" aria-label="Current page">
        <p className="muted">Open a web page to save it as a task.</p>
      </section>
    );
  }
  const save = async () => {
    setSaving(true);
    try {
      await sendMessage("capture", { page });
    } catch (err) {
      toasts.show(`Could not save: ${(err as Error).message}`, { kind: "error" });
    } finally {
      setSaving(false);
    }
  };
  const allow = async () => {
    // Asked from the click itself: browsers only grant permissions during a user gesture.
    const granted = await browser.permissions
      .request({ origins: ["http://*/*", "https://*/*"] })
      .catch(() => false);
    if (granted) onPermissionGranted();
  };
  return (
    <section className="page-card" aria-label="Current page" data-testid="page-card">
      <div className="page-head">
        {page.favIconUrl && /^(https?|data):/.test(page.favIconUrl) ? (
          <img className="favicon" src={page.favIconUrl} alt="" width={16} height={16} />
        ) : (
          // A globe, not a grey square: that looked like a checkbox beside the task list's.
          <svg className="favicon favicon-blank" viewBox="0 0 16 16" aria-hidden="true">
            <g fill="none" stroke="currentColor" strokeWidth="1.2">
              <circle cx="8" cy="8" r="6.4" />
              <ellipse cx="8" cy="8" rx="2.8" ry="6.4" />
              <path d="M1.6 8h12.8" />
            </g>
          </svg>
        )}
        <div className="page-text">
          <div className="page-title" data-testid="page-title" title={page.title}>
            {page.title || "Untitled page"}
          </div>
          <div className="page-url" data-testid="page-url" title={page.url}>
            {shortUrl(page.url)}
          </div>
        </div>
      </div>
      {page.selection && (
        <blockquote className="page-selection" data-testid="page-selection">
          {page.selection}
        </blockquote>
      )}
      {page.unreadable && (
        <p className="page-note" data-testid="page-unreadable">
          {page.unreadable}{" "}
          {page.needsPermission && (
            <button type="button" className="link-button" onClick={allow}>
              Allow reading pages
            </button>
          )}
        </p>
      )}
      <button type="button" className="primary" onClick={save} disabled={saving} data-testid="save-page">
        {page.selection ? "Save with selection" : "Save as task"}
      </button>
    </section>
  );
}
