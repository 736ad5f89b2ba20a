import { useEffect, useRef, useState } from "react";
import { describeError } from "../api/errors.ts";
import type { DeviceCode } from "../auth/device-flow.ts";
import type { Session } from "../auth/session.ts";
import { signIn } from "../auth/sign-in.ts";
import { sendMessage } from "../messaging/protocol.ts";
import { type Settings, settingsItem } from "../settings/settings.ts";
import { GatewayField } from "./GatewayField.tsx";

/** Signed out (or expired): one button starts the device flow; the code shows until it is approved. */
export function SignInView({ settings, expired }: { settings: Settings; expired: Session | null }) {
  const [code, setCode] = useState<DeviceCode | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const abort = useRef<AbortController | null>(null);
  useEffect(() => () => abort.current?.abort(), []);

  const start = async () => {
    setError(null);
    setBusy(true);
    abort.current = new AbortController();
    try {
      await signIn(settings.gatewayUrl, { onCode: setCode, signal: abort.current.signal });
      await sendMessage("sessionChanged", null).catch(() => {});
    } catch (err) {
      if (!abort.current.signal.aborted) setError(describeError(err));
      setCode(null);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="sign-in" aria-labelledby="sign-in-title" data-testid="sign-in">
      <h1 id="sign-in-title">Margin</h1>
      <p className="lead">Save any page as a task, see your list live, and chat about it.</p>
      {expired && (
        <p className="banner banner-warn" role="alert" data-testid="session-expired">
          Your session for {expired.user.email} has expired. Sign in again; captures made meanwhile are kept.
        </p>
      )}
      {code ? (
        <div className="device-code" data-testid="device-code-box">
          <p>Approve this code on the page that opened:</p>
          <output className="code" data-testid="device-code">
            {code.user_code}
          </output>
          <p>
            <a href={code.approvalUrl} target="_blank" rel="noreferrer">
              Open the approval page again
            </a>
          </p>
          <p className="muted" role="status">
            Waiting for approval…
          </p>
          <button
            type="button"
            onClick={() => {
              abort.current?.abort();
              setCode(null);
            }}
          >
            Cancel
          </button>
        </div>
      ) : (
        <>
          <button
            type="button"
            className="primary"
            onClick={start}
            disabled={busy}
            data-testid="sign-in-button"
          >
            Sign in
          </button>
          <GatewayField
            settings={settings}
            onSaved={(url) => void settingsItem.setValue({ ...settings, gatewayUrl: url })}
          />
        </>
      )}
      {error && (
        <p className="banner banner-error" role="alert" data-testid="sign-in-error">
          {error}
        </p>
      )}
    </section>
  );
}
