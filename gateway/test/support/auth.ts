import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type Express } from "express";
import { type Auth, createAuth } from "../../src/auth/auth.ts";
import { createAuthRouter } from "../../src/auth/routes.ts";
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
  app.use(createAuthRouter(auth));
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

/** Signs up a new user and returns a bearer token for them. */
export async function signUp(
  baseUrl: string,
  email: string,
  opts: { password?: string; timezone?: string } = {},
): Promise<string> {
  const res = await postJson(baseUrl, "/api/auth/sign-up/email", {
    email,
    password: opts.password ?? TEST_PASSWORD,
    name: email.split("@")[0],
    ...(opts.timezone === undefined ? {} : { timezone: opts.timezone }),
  });
  const token = res.headers.get("set-auth-token");
  if (!res.ok || !token) throw new Error(`sign-up of ${email} failed: ${res.status} ${await res.text()}`);
  return token;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
