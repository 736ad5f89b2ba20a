import { storage } from "wxt/utils/storage";
import type { Connection } from "../api/client.ts";

export type AccountUser = { id: string; email: string; timezone: string };

/** A signed-in browser. The bearer token lives in local extension storage only, never in sync storage. */
export type Session = {
  token: string;
  gatewayUrl: string;
  user: AccountUser;
  /** Set when the gateway refused the token: the panel asks to sign in again; captures keep waiting. */
  expired?: boolean;
};

export const sessionItem = storage.defineItem<Session | null>("local:session", {
  fallback: null,
  version: 1,
});

/** Where and as whom to call, or null while signed out or expired. */
export async function currentConnection(): Promise<Connection | null> {
  const session = await sessionItem.getValue();
  return session && !session.expired ? { gatewayUrl: session.gatewayUrl, token: session.token } : null;
}

/** The gateway refused this token: keep the account for display, but stop using it. */
export async function markSessionExpired(token: string): Promise<void> {
  const session = await sessionItem.getValue();
  if (session && session.token === token && !session.expired)
    await sessionItem.setValue({ ...session, expired: true });
}
