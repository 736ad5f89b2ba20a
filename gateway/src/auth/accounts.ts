// Account administration from the server side (the `margin user create` / `margin api-key create` CLI).
// Listing and revoking keys are better-auth's own HTTP endpoints:
// GET /api/auth/api-key/list and POST /api/auth/api-key/delete {keyId}.
import { isAPIError } from "better-auth/api";
import { eq } from "drizzle-orm";
import type { Database } from "../db/connect.ts";
import { user } from "../db/schema.ts";
import type { Auth } from "./auth.ts";
import type { CurrentUser } from "./current-user.ts";

export type AccountErrorCode = "email_taken" | "no_such_user" | "invalid_input";

/** A mistake the operator can fix; `message` is meant to be printed as is. */
export class AccountError extends Error {
  override name = "AccountError";
  readonly code: AccountErrorCode;
  constructor(code: AccountErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export type NewUser = { email: string; password: string; name?: string; timezone?: string };

export async function createUser(auth: Auth, input: NewUser): Promise<CurrentUser> {
  const email = input.email.trim().toLowerCase();
  try {
    const { token, user: created } = await auth.api.signUpEmail({
      body: {
        email,
        password: input.password,
        name: input.name ?? email.split("@")[0] ?? email,
        ...(input.timezone === undefined ? {} : { timezone: input.timezone }),
      },
    });
    // Sign-up also signs in; nobody holds that session, so don't leave it valid.
    if (token) await (await auth.$context).internalAdapter.deleteSession(token);
    return { id: created.id, email: created.email, timezone: created.timezone ?? "UTC" };
  } catch (err) {
    if (!isAPIError(err) || err.statusCode >= 500) throw err;
    if (String(err.body?.code).startsWith("USER_ALREADY_EXISTS")) {
      throw new AccountError("email_taken", `A user with the email ${email} is already registered.`);
    }
    throw new AccountError("invalid_input", err.body?.message ?? err.message);
  }
}

export type AccountSummary = {
  id: string;
  email: string;
  name: string;
  timezone: string;
  created_at: string;
};

/** An account by email, for the operator (`margin user show`). */
export async function findUser(database: Database["db"], email: string): Promise<AccountSummary> {
  const normalized = email.trim().toLowerCase();
  const [found] = await database
    .select({
      id: user.id,
      email: user.email,
      name: user.name,
      timezone: user.timezone,
      createdAt: user.createdAt,
    })
    .from(user)
    .where(eq(user.email, normalized))
    .limit(1);
  if (!found)
    throw new AccountError(
      "no_such_user",
      `No user with the email ${normalized}. Create one with \`margin user create\`.`,
    );
  return {
    id: found.id,
    email: found.email,
    name: found.name,
    timezone: found.timezone ?? "UTC",
    created_at: found.createdAt.toISOString(),
  };
}

export type NewApiKey = { id: string; key: string; name: string | null; start: string | null };

/** Creates a personal API key for an existing user. The key is returned once and stored only as a hash. */
export async function createApiKey(
  auth: Auth,
  database: Database["db"],
  input: { email: string; name?: string },
): Promise<NewApiKey> {
  const owner = await findUser(database, input.email);
  try {
    // No headers: a trusted server call, which may name the owning user (gateway-recipes A7).
    const created = await auth.api.createApiKey({ body: { userId: owner.id, name: input.name } });
    return { id: created.id, key: created.key, name: created.name ?? null, start: created.start ?? null };
  } catch (err) {
    if (!isAPIError(err) || err.statusCode >= 500) throw err;
    throw new AccountError("invalid_input", err.body?.message ?? err.message);
  }
}
