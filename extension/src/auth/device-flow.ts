import { z } from "zod/mini";
import { gatewayFetch, joinUrl } from "../api/client.ts";
import { ApiError } from "../api/errors.ts";
import type { AccountUser } from "./session.ts";

export const CLIENT_ID = "margin-extension";

const deviceCodeSchema = z.object({
  device_code: z.string(),
  user_code: z.string(),
  verification_uri: z.string(),
  verification_uri_complete: z.optional(z.string()),
  expires_in: z.number(),
  interval: z._default(z.number(), 5),
});
export type DeviceCode = z.infer<typeof deviceCodeSchema> & { approvalUrl: string };

const tokenSchema = z.object({ access_token: z.string() });
const sessionSchema = z.object({
  user: z.object({ id: z.string(), email: z.string(), timezone: z.nullish(z.string()) }),
});

const json = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

/** RFC 8628 step 1: a code for the user to approve on the gateway's /device page. */
export async function requestDeviceCode(gatewayUrl: string): Promise<DeviceCode> {
  const res = await gatewayFetch(
    joinUrl(gatewayUrl, "/api/auth/device/code"),
    json({ client_id: CLIENT_ID }),
  );
  const code = deviceCodeSchema.parse(await res.json());
  const approvalUrl =
    code.verification_uri_complete ??
    `${code.verification_uri}${code.verification_uri.includes("?") ? "&" : "?"}user_code=${encodeURIComponent(code.user_code)}`;
  return { ...code, approvalUrl };
}

export class DeviceFlowError extends Error {
  override name = "DeviceFlowError";
}

/**
 * RFC 8628 step 2: poll until the user approves (→ the bearer token), denies, or the code expires.
 * `sleep` is injectable so tests need not wait for real intervals.
 */
export async function pollDeviceToken(
  gatewayUrl: string,
  code: DeviceCode,
  opts: { signal?: AbortSignal; sleep?: (ms: number) => Promise<void> } = {},
): Promise<string> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  let interval = code.interval * 1000;
  const deadline = Date.now() + code.expires_in * 1000;
  while (Date.now() < deadline) {
    await sleep(interval);
    if (opts.signal?.aborted) throw new DeviceFlowError("Sign-in was cancelled.");
    try {
      const res = await gatewayFetch(
        joinUrl(gatewayUrl, "/api/auth/device/token"),
        json({
          grant_type: "urn:ietf:params:oauth:grant-type:device_code",
          device_code: code.device_code,
          client_id: CLIENT_ID,
        }),
      );
      return tokenSchema.parse(await res.json()).access_token;
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.code === "authorization_pending") continue;
      if (err.code === "slow_down") {
        interval += 5000;
        continue;
      }
      if (err.code === "access_denied") throw new DeviceFlowError("Sign-in was denied on the approval page.");
      if (err.code === "expired_token") throw new DeviceFlowError("The code expired. Start again.");
      throw err;
    }
  }
  throw new DeviceFlowError("The code expired. Start again.");
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Who a bearer token belongs to. */
export async function fetchAccount(gatewayUrl: string, token: string): Promise<AccountUser> {
  const res = await gatewayFetch(joinUrl(gatewayUrl, "/api/auth/get-session"), { headers: bearer(token) });
  const body = await res.json();
  if (!body) throw new ApiError(401, "unauthorized", "The session is no longer valid. Sign in again.");
  const { user } = sessionSchema.parse(body);
  return { id: user.id, email: user.email, timezone: user.timezone ?? "UTC" };
}

/** Sets the account's zone: dates typed anywhere are read in it. */
export async function updateAccountTimeZone(
  gatewayUrl: string,
  token: string,
  timezone: string,
): Promise<void> {
  await gatewayFetch(joinUrl(gatewayUrl, "/api/auth/update-user"), {
    ...json({ timezone }),
    headers: { "content-type": "application/json", ...bearer(token) },
  });
}

/** Ends the session on the server, so the token stops working everywhere. */
export async function revokeSession(gatewayUrl: string, token: string): Promise<void> {
  await gatewayFetch(joinUrl(gatewayUrl, "/api/auth/sign-out"), {
    ...json({}),
    headers: { "content-type": "application/json", ...bearer(token) },
  });
}
