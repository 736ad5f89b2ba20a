import { storage } from "wxt/utils/storage";
import { z } from "zod/mini";

export type ChatMode = "chatkit" | "builtin";
export type Settings = { gatewayUrl: string; chatMode: ChatMode };

export const DEFAULT_GATEWAY_URL = "http://localhost:8787";

/** Per-browser settings. Local, never sync: a gateway URL is specific to where this browser runs. */
export const settingsItem = storage.defineItem<Settings>("local:settings", {
  // Firefox starts with the built-in chat, Chrome with ChatKit; either can be chosen in settings.
  fallback: {
    gatewayUrl: DEFAULT_GATEWAY_URL,
    chatMode: import.meta.env.BROWSER === "firefox" ? "builtin" : "chatkit",
  },
  version: 1,
});

const gatewayUrlSchema = z.pipe(
  z.url({ protocol: /^https?$/, error: "Enter an http:// or https:// address, e.g. http://localhost:8787" }),
  z.transform((u: string) => {
    const url = new URL(u);
    return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
  }),
);

/** A typed gateway address made canonical (no trailing slash, no query), or the reason it is not one. */
export function parseGatewayUrl(input: string): { ok: true; url: string } | { ok: false; error: string } {
  const parsed = gatewayUrlSchema.safeParse(input.trim());
  return parsed.success
    ? { ok: true, url: parsed.data }
    : { ok: false, error: parsed.error.issues[0]!.message };
}

/** The match pattern a gateway needs as host permission; the defaults are granted at install. */
export function gatewayOriginPattern(gatewayUrl: string): string {
  const url = new URL(gatewayUrl);
  return `${url.protocol}//${url.hostname}/*`;
}

export function needsHostPermission(gatewayUrl: string): boolean {
  const host = new URL(gatewayUrl).hostname;
  return !(new URL(gatewayUrl).protocol === "http:" && (host === "localhost" || host === "127.0.0.1"));
}

/** The browser's own zone: what the account is set to at sign-in. */
export const detectTimeZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
