import { useEffect, useState } from "react";
import { describeError } from "../api/errors.ts";
import { updateAccountTimeZone } from "../auth/device-flow.ts";
import { type Session, sessionItem } from "../auth/session.ts";
import { signOut } from "../auth/sign-in.ts";
import { sendMessage } from "../messaging/protocol.ts";
import { type ChatMode, detectTimeZone, type Settings, settingsItem } from "../settings/settings.ts";
import { GatewayField } from "./GatewayField.tsx";
import { useToasts } from "./Toasts.tsx";

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
