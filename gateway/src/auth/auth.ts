import { apiKey } from "@better-auth/api-key";
import { betterAuth } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { bearer, deviceAuthorization } from "better-auth/plugins";
import { z } from "zod";
import { isTimeZone } from "../config.ts";
import type { Database } from "../db/connect.ts";
import * as schema from "../db/schema.ts";
import type { Logger } from "../logger.ts";

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
    emailAndPassword: { enabled: true, minPasswordLength: 8 },
    trustedOrigins: opts.trustedOrigins,
    // Into the JSON log; a rejected API key is a client's mistake, so it is not logged as an error.
    logger: {
      disabled: !opts.logger,
      log: (level, message, ...args) => {
        const rejectedKey = /validate API key/i.test(message);
        opts.logger?.[rejectedKey ? "debug" : level]({ details: args }, message);
      },
    },
    // better-auth skips the origin check when NODE_ENV=test; keep it on so tests see production behaviour.
    // Joins: a bearer lookup reads session and user in one query instead of two.
    advanced: { disableOriginCheck: false, database: { joins: true } },
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
      bearer(),
      deviceAuthorization({
        expiresIn: `${opts.deviceCodeTtlSeconds ?? 600}s`,
        interval: "2s",
        verificationUri: "/device",
      }),
      // Keys default to 10 requests a day; MCP clients need far more (gateway-recipes A2).
      apiKey({ rateLimit: { enabled: false }, defaultPrefix: "mgn_" }),
    ],
  });
}

export type Auth = ReturnType<typeof createAuth>;
