import { eq, sql } from "drizzle-orm";
import type { Auth } from "../auth/auth.ts";
import type { AuthThrottle } from "../auth/throttle.ts";
import { chatTurnCounts } from "../db/chat-schema.ts";
import type { Db } from "../db/connect.ts";
import { rateLimits } from "../db/limits-schema.ts";
import { user } from "../db/schema.ts";
import { AccountActionError } from "./errors.ts";

/** The chat-turn limiter keys its counters by this prefix and the user id (chatkit/rate-limit.ts). */
const CHAT_TURN_KEY_PREFIX = "chat-turn:";

/**
 * Checks the account's password before a destructive action: a session token alone (a stolen one, a panel left
 * open) must not be enough to delete an account. Failures count against the same per-account and per-address
 * budget as sign-in, so this is no side door for guessing passwords.
 */
export async function confirmPassword(
  auth: Auth,
  throttle: AuthThrottle,
  who: { id: string; email: string; ip: string },
  password: string,
): Promise<void> {
  const verdict = await throttle.beforeSignIn(who.ip, who.email);
  if (verdict) {
    throw new AccountActionError(
      429,
      "rate_limited",
      `Too many attempts. Try again in ${verdict.retryAfterSeconds} seconds.`,
      verdict.retryAfterSeconds,
    );
  }
  const ctx = await auth.$context;
  const accounts = await ctx.internalAdapter.findAccounts(who.id);
  const hash = accounts.find((a) => a.providerId === "credential" && a.password)?.password;
  const ok = hash ? await ctx.password.verify({ hash, password }) : false;
  if (!ok) {
    await throttle.signInFailed(who.ip, who.email);
    throw new AccountActionError(403, "wrong_password", "The password is not this account's password.");
  }
}

/**
 * Deletes the account and every row that belongs to it, in one transaction. Every table holding a user's rows
 * references "user" ON DELETE CASCADE (migration 0009), so deleting the user row deletes tasks, change log,
 * chat threads and items, sessions, sign-in accounts, API keys, device codes, OAuth grants and stream leases with it; the
 * session and user triggers NOTIFY auth_changes, so every gateway instance drops the sessions at once.
 * Rate-limit counters have no user column but name the user at the end of their key (`writes:<id>`,
 * `signin_acct:<email>`, `signin_known:<address>:<email>`, the chat-turn counter), so they go explicitly.
 */
export async function deleteAccount(db: Db, userId: string): Promise<{ deleted: boolean }> {
  return db.transaction(async (tx) => {
    const gone = await tx.delete(user).where(eq(user.id, userId)).returning({ email: user.email });
    const named = [userId, ...gone.map((u) => u.email.trim().toLowerCase())];
    await tx.delete(chatTurnCounts).where(eq(chatTurnCounts.key, CHAT_TURN_KEY_PREFIX + userId));
    for (const name of named) {
      // Keys are `<prefix>:<name>` (rate-limiter-flexible); match the end exactly, no LIKE patterns.
      const suffix = `:${name}`;
      await tx.delete(rateLimits).where(sql`right(${rateLimits.key}, char_length(${suffix})) = ${suffix}`);
    }
    return { deleted: gone.length > 0 };
  });
}
