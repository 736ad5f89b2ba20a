import { useState } from "react";
import { browser } from "wxt/browser";
import {
  gatewayOriginPattern,
  needsHostPermission,
  parseGatewayUrl,
  type Settings,
} from "../settings/settings.ts";

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
