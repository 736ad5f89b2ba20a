import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type Express } from "express";
import { type Auth, createAuth } from "../../src/auth/auth.ts";
import { createAuthRouter } from "../../src/auth/routes.ts";
import { createAuthThrottle } from "../../src/auth/throttle.ts";
import type { Database } from "../../src/db/connect.ts";

export const TEST_PASSWORD = "correct-horse-battery";

export type AuthServer = { baseUrl: string; auth: Auth; close(): Promise<void> };

/**
 * An Express app on a free loopback port with better-auth and the device page mounted; `mount` adds the
 * routes under test (after `express.json()`).
 */
export async function startAuthServer(
  database: Database["db"],
  mount?: (app: Express, auth: Auth) => void,
): Promise<AuthServer> {
  // better-auth needs its base URL up front, so listen first and attach the app once the port is known.
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const auth = createAuth(database, {
    baseURL: baseUrl,
    secret: "test-only-secret-".padEnd(48, "x"),
    trustedOrigins: [],
  });
  const app = express();
  app.use(
    createAuthRouter(auth, {
      publicUrl: new URL(baseUrl),
      // Suites sign many users up from one address; the security suite checks the real limits.
      throttle: createAuthThrottle({ signUpsPerIp: 1e6, deviceCodesPerIp: 1e6, signInFailuresPerIp: 1e6 }),
    }),
  );
  app.use(express.json());
  mount?.(app, auth);
  server.on("request", app);
  return {
    baseUrl,
    auth,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * POST JSON the way a non-browser client must: Node's fetch sends `sec-fetch-mode: cors`, so better-auth
 * demands an Origin, and the base URL's origin is the one it trusts (gateway-recipes A3).
 */
export function postJson(baseUrl: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(baseUrl + path, {
    method: "POST",
    headers: { "content-type": "application/json", origin: baseUrl, ...headers },
    body: JSON.stringify(body),
  });
}

/**
 * Signs up a new user, then signs in (sign-up hands out no session: it answers alike for taken emails) and
 * returns the bearer token.
 */
export async function signUp(
  baseUrl: string,
  email: string,
  opts: { password?: string; timezone?: string } = {},
): Promise<string> {
  const password = opts.password ?? TEST_PASSWORD;
  const res = await postJson(baseUrl, "/api/auth/sign-up/email", {
    email,
    password,
    name: email.split("@")[0],
    ...(opts.timezone === undefined ? {} : { timezone: opts.timezone }),
  });
  if (!res.ok) throw new Error(`sign-up of ${email} failed: ${res.status} ${await res.text()}`);
  return signIn(baseUrl, email, password);
}

/** Signs in and returns the bearer token (the `set-auth-token` header). */
export async function signIn(baseUrl: string, email: string, password = TEST_PASSWORD): Promise<string> {
  const res = await postJson(baseUrl, "/api/auth/sign-in/email", { email, password });
  const token = res.headers.get("set-auth-token");
  if (!res.ok || !token) throw new Error(`sign-in of ${email} failed: ${res.status} ${await res.text()}`);
  return token;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
