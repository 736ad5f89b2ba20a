import { browser } from "wxt/browser";
import { describeError } from "../api/errors.ts";
import { detectTimeZone } from "../settings/settings.ts";
import {
  type DeviceCode,
  fetchAccount,
  pollDeviceToken,
  requestDeviceCode,
  revokeSession,
  updateAccountTimeZone,
} from "./device-flow.ts";
import { type Session, sessionItem } from "./session.ts";

/** Device flow end to end: show the code, open the approval page, wait, then keep the session. */
export async function signIn(
  gatewayUrl: string,
  opts: { onCode: (code: DeviceCode) => void; signal?: AbortSignal; openApprovalPage?: boolean },
): Promise<Session> {
  const code = await requestDeviceCode(gatewayUrl);
  opts.onCode(code);
  if (opts.openApprovalPage !== false) await browser.tabs.create({ url: code.approvalUrl }).catch(() => {});
  const token = await pollDeviceToken(gatewayUrl, code, { signal: opts.signal });
  const user = await fetchAccount(gatewayUrl, token);
  // Dates typed anywhere are read in the account's zone: make it this browser's.
  const tz = detectTimeZone();
  if (user.timezone !== tz) {
    await updateAccountTimeZone(gatewayUrl, token, tz).then(
      () => (user.timezone = tz),
      () => {},
    );
  }
  const session: Session = { token, gatewayUrl, user };
  await sessionItem.setValue(session);
  return session;
}

/** Revokes the session on the server, then forgets it here. Forgets it even if the server can't be reached. */
export async function signOut(): Promise<string | null> {
  const session = await sessionItem.getValue();
  if (!session) return null;
  let problem: string | null = null;
  if (!session.expired) {
    await revokeSession(session.gatewayUrl, session.token).catch((err: unknown) => {
      problem = `Signed out here, but the server could not be told: ${describeError(err)}`;
    });
  }
  await sessionItem.setValue(null);
  return problem;
}
