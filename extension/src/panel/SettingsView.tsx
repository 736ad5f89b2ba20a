import { useEffect, useState } from "react";
import { browser } from "wxt/browser";
import { describeError } from "../api/errors.ts";
import { updateAccountTimeZone } from "../auth/device-flow.ts";
import { type Session, sessionItem } from "../auth/session.ts";
import { signOut } from "../auth/sign-in.ts";
import { sendMessage } from "../messaging/protocol.ts";
import {
  type ChatMode,
  detectTimeZone,
  gatewayOriginPattern,
  needsHostPermission,
  parseGatewayUrl,
  type Settings,
  settingsItem,
} from "../settings/settings.ts";
import { useToasts } from "./Toasts.tsx";

/** The gateway address; any host but this machine's needs the user's permission, asked on save. */
export function GatewayField({
  settings,
  onSaved,
  disabled,
  hint,
}: {
  settings: Settings;
  onSaved: (url: string) => void;
  disabled?: boolean;
  hint?: string;
}) {
  const [value, setValue] = useState(settings.gatewayUrl);
  const [error, setError] = useState<string | null>(null);
  const save = async () => {
    const parsed = parseGatewayUrl(value);
    if (!parsed.ok) return setError(parsed.error);
    if (needsHostPermission(parsed.url)) {
      const granted = await browser.permissions
        .request({ origins: [gatewayOriginPattern(parsed.url)] })
        .catch(() => false);
      if (!granted) return setError("Margin needs permission to reach that server. Save again and allow it.");
    }
    setError(null);
    setValue(parsed.url);
    onSaved(parsed.url);
  };
  return (
    <form
      className="field"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <label htmlFor="gateway-url">Server address</label>
      <div className="row">
        <input
          id="gateway-url"
          value={value}
          onChange={(e) => setValue(e.target.value)}
          disabled={disabled}
          inputMode="url"
          aria-describedby={error ? "gateway-url-error" : undefined}
          aria-invalid={!!error}
          data-testid="gateway-url"
        />
        <button type="submit" disabled={disabled || value === settings.gatewayUrl}>
          Save
        </button>
      </div>
      {hint && <p className="muted small">{hint}</p>}
      {error && (
        <p id="gateway-url-error" className="error-text" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

export function SettingsView({ settings, session }: { settings: Settings; session: Session }) {
  const toasts = useToasts();
  const detected = detectTimeZone();
  // Shown at once, not after storage answers: a controlled radio would otherwise snap back for a moment.
  const [chatMode, showChatMode] = useState(settings.chatMode);
  useEffect(() => showChatMode(settings.chatMode), [settings.chatMode]);
  const setChatMode = (mode: ChatMode) => {
    showChatMode(mode);
    void settingsItem.setValue({ ...settings, chatMode: mode });
  };
  const adoptDetectedZone = async () => {
    try {
      await updateAccountTimeZone(session.gatewayUrl, session.token, detected);
      await sessionItem.setValue({ ...session, user: { ...session.user, timezone: detected } });
      toasts.show(`Time zone set to ${detected}`);
    } catch (err) {
      toasts.show(describeError(err), { kind: "error" });
    }
  };
  return (
    <section className="settings" aria-labelledby="settings-title" data-testid="settings">
      <h2 id="settings-title">Settings</h2>
      <div className="field">
        <span className="field-label">Account</span>
        <p data-testid="account-email">{session.user.email}</p>
        <button
          type="button"
          data-testid="sign-out"
          onClick={async () => {
            const problem = await signOut();
            await sendMessage("sessionChanged", null).catch(() => {});
            if (problem) toasts.show(problem, { kind: "error" });
          }}
        >
          Sign out
        </button>
      </div>
      <GatewayField
        settings={settings}
        onSaved={() => {}}
        disabled
        hint="Sign out to connect to another server."
      />
      <div className="field">
        <span className="field-label">Time zone</span>
        <p data-testid="account-timezone">
          {session.user.timezone}
          {session.user.timezone === detected ? " (this browser's)" : ""}
        </p>
        {session.user.timezone !== detected && (
          <button type="button" onClick={adoptDetectedZone}>
            Use this browser's zone ({detected})
          </button>
        )}
      </div>
      <fieldset className="field">
        <legend className="field-label">Chat</legend>
        <label className="radio">
          <input
            type="radio"
            name="chat-mode"
            checked={chatMode === "chatkit"}
            onChange={() => setChatMode("chatkit")}
          />
          ChatKit (falls back to built-in when it can't load)
        </label>
        <label className="radio">
          <input
            type="radio"
            name="chat-mode"
            checked={chatMode === "builtin"}
            onChange={() => setChatMode("builtin")}
          />
          Built-in
        </label>
      </fieldset>
      <div className="field">
        <span className="field-label">Keyboard</span>
        <p className="small">
          <kbd>Alt</kbd>+<kbd>Shift</kbd>+<kbd>S</kbd> saves the current page. Change it in the browser's
          extension shortcut settings.
        </p>
      </div>
    </section>
  );
}
