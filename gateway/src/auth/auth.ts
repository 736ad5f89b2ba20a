import { apiKey } from "@better-auth/api-key";
import { betterAuth } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { bearer, deviceAuthorization } from "better-auth/plugins";

type AnyPgDb = Parameters<typeof drizzleAdapter>[0];

export type AuthOptions = {
  baseURL: string;
  secret: string;
  trustedOrigins: string[];
};

export function createAuth(db: AnyPgDb, schema: Record<string, unknown> | undefined, opts: AuthOptions) {
  return betterAuth({
    appName: "Margin",
    baseURL: opts.baseURL,
    secret: opts.secret,
    database: drizzleAdapter(db, { provider: "pg", schema }),
    emailAndPassword: { enabled: true, minPasswordLength: 8 },
    trustedOrigins: opts.trustedOrigins,
    user: {
      additionalFields: {
        timezone: { type: "string", required: false, defaultValue: "UTC", input: true },
      },
    },
    plugins: [
      bearer(),
      deviceAuthorization({ expiresIn: "10m", interval: "2s", verificationUri: "/device" }),
      // Keys default to 10 requests a day; MCP clients need far more (gateway-recipes A2).
      apiKey({ rateLimit: { enabled: false }, defaultPrefix: "mgn_" }),
    ],
  });
}

export type Auth = ReturnType<typeof createAuth>;
