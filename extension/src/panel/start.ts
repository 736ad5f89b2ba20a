import { storage } from "wxt/utils/storage";
import { type Session, sessionItem } from "../auth/session.ts";
import { type Settings, settingsItem } from "../settings/settings.ts";

/** What the panel needs before it can draw anything but a blank page. */
export type PanelStart = { session: Session | null; settings: Settings };

/**
 * Asked for while this module is evaluated, so the answer comes back while React and the rest of the panel are
 * (main.tsx imports it first), and the first render already has content. Undefined if storage failed: the
 * panel's own reads then decide.
 */
export const panelStart: Promise<PanelStart | undefined> = storage.getItems([sessionItem, settingsItem]).then(
  ([session, settings]) => ({
    session: (session?.value ?? null) as Session | null,
    settings: settings?.value as Settings,
  }),
  () => undefined,
);
