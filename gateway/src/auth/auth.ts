import { apiKey } from "@better-auth/api-key";
import { betterAuth } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { bearer, deviceAuthorization } from "better-auth/plugins";
import { z } from "zod";
import { isTimeZone } from "../config.ts";
import type { Database } from "../db/connect.ts";
import * as schema from "../db/schema.ts";
import { type Logger, serializeError } from "../logger.ts";
import { mcpClientDefaults, oauthProviderPlugin } from "../oauth/provider.ts";
import { hardening } from "./hardening.ts";

/** The header the gateway's edge sets to the client address it trusts (see TRUST_PROXY); never a client's. */
export const CLIENT_IP_HEADER = "x-margin-client-ip";

const DAY_SECONDS = 24 * 60 * 60;
/** API keys expire after a year unless the user picks a shorter life (1–365 days). */
export const API_KEY_DEFAULT_TTL_SECONDS = 365 * DAY_SECONDS;

export type AuthOptions = {
  /** The gateway's public URL; its origin is trusted and the device page lives at `<baseURL>/device`. */
  baseURL: string;
  secret: string;
  /** Extra origins allowed to sign in (the extension's `chrome-extension://<id>`). */
  trustedOrigins: string[];
  /** How long a device code stays valid, in seconds (default 600); tests shorten it. */
  deviceCodeTtlSeconds?: number;
  /** Where better-auth's own messages go; without it they are dropped. */
  logger?: Logger;
};

// Stored canonically ("europe/berlin" → "Europe/Berlin") so every consumer sees one spelling.
const timeZoneInput = z
  .string()
  .refine(isTimeZone, "timezone must be an IANA time zone such as Europe/Berlin")
  .transform((tz) => new Intl.DateTimeFormat("en-US", { timeZone: tz }).resolvedOptions().timeZone);

export function createAuth(database: Database["db"], opts: AuthOptions) {
  return betterAuth({
    appName: "Margin",
    baseURL: opts.baseURL,
    secret: opts.secret,
    database: drizzleAdapter(database, { provider: "pg", schema }),
    // No auto sign-in: sign-up then answers alike for new and taken emails (no token either way), and the
    // client signs in next. See README "Accounts" for what that hides and what it can't.
    emailAndPassword: { enabled: true, minPasswordLength: 8, maxPasswordLength: 256, autoSignIn: false },
    // The gateway's edge throttles sign-in, sign-up and device codes in every mode (auth/throttle.ts);
    // better-auth's own limiter runs only in production and keys on headers any client can send.
    rateLimit: { enabled: false },
    trustedOrigins: opts.trustedOrigins,
    // Into the JSON log; a rejected API key is a client's mistake, so it is not logged as an error.
    logger: {
      disabled: !opts.logger,
      log: (level, message, ...args) => {
        const rejectedKey = /validate API key/i.test(message);
        // Errors lose their query parameters (session tokens, API key hashes) on the way.
        const details = args.map((a) => (a instanceof Error ? serializeError(a) : a));
        opts.logger?.[rejectedKey ? "debug" : level]({ details }, message);
      },
    },
    // better-auth skips the origin check when NODE_ENV=test; keep it on so tests see production behaviour.
    // Joins: a bearer lookup reads session and user in one query instead of two.
    // Client address: only what the edge resolved (X-Forwarded-For is believed from TRUST_PROXY only).
    advanced: {
      disableOriginCheck: false,
      database: { joins: true },
      ipAddress: { ipAddressHeaders: [CLIENT_IP_HEADER] },
    },
    user: {
      additionalFields: {
        // The validator runs on sign-up and on update-user alike.
        timezone: {
          type: "string",
          required: false,
          defaultValue: "UTC",
          input: true,
          validator: { input: timeZoneInput },
        },
      },
    },
    plugins: [
      // Only the signed form (set-auth-token): a raw token read from a database copy or a log is useless.
      bearer({ requireSignature: true }),
      deviceAuthorization({
        expiresIn: `${opts.deviceCodeTtlSeconds ?? 600}s`,
        interval: "2s",
        verificationUri: "/device",
      }),
      // Keys default to 10 requests a day; MCP clients need far more (gateway-recipes A2).
      apiKey({
        rateLimit: { enabled: false },
        defaultPrefix: "mgn_",
        keyExpiration: { defaultExpiresIn: API_KEY_DEFAULT_TTL_SECONDS, minExpiresIn: 1, maxExpiresIn: 365 },
      }),
      hardening({ secret: opts.secret }),
      // OAuth 2.1 for MCP clients (oauth/): the gateway is the authorization server for its own /mcp.
      mcpClientDefaults({ baseURL: opts.baseURL }),
      oauthProviderPlugin({ baseURL: opts.baseURL }),
    ],
  });
}

export type Auth = ReturnType<typeof createAuth>;
