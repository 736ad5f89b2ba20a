// Margin's rules on top of better-auth's endpoints: bounded user fields, no raw session tokens handed out,
// sessions revoked by id, a password change that signs every other device out, and API keys that keep an expiry.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { BetterAuthPlugin } from "better-auth";
import { APIError, createAuthMiddleware } from "better-auth/api";
import { z } from "zod";

export const USER_NAME_MAX = 100;
export const USER_IMAGE_MAX = 2048;

const userFields = z.object({
  name: z
    .string()
    .trim()
    .min(1, "name must not be empty")
    .max(USER_NAME_MAX, `name must be at most ${USER_NAME_MAX} characters`)
    .optional(),
  image: z
    .url({ protocol: /^https?$/, error: "image must be an http(s) URL" })
    .max(USER_IMAGE_MAX, `image must be a URL of at most ${USER_IMAGE_MAX} characters`)
    .nullable()
    .optional(),
});

/**
 * The signed bearer form of a session token, as better-auth's `set-auth-token` header carries it
 * (`<token>.<base64 HMAC-SHA256>`). With `bearer({ requireSignature: true })` only this form is accepted.
 */
export function signSessionToken(token: string, secret: string): string {
  return `${token}.${createHmac("sha256", secret).update(token).digest("base64")}`;
}

/** The raw token inside a signed bearer header, or null when the header is missing or its signature wrong. */
function verifiedBearer(header: string | null | undefined, secret: string): string | null {
  const value = header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  if (!value) return null;
  const signed = value.includes("%") ? decodeURIComponent(value) : value;
  const dot = signed.lastIndexOf(".");
  if (dot < 1) return null;
  const token = signed.slice(0, dot);
  const expected = Buffer.from(signSessionToken(token, secret));
  const given = Buffer.from(signed);
  return expected.length === given.length && timingSafeEqual(expected, given) ? token : null;
}

type StoredSession = {
  id: string;
  token: string;
  userId: string;
  userAgent?: string | null;
  ipAddress?: string | null;
  createdAt: Date;
  updatedAt: Date;
  expiresAt: Date;
};

export function hardening(opts: { secret: string }) {
  return {
    id: "margin-hardening",
    hooks: {
      before: [
        {
          matcher: (ctx) => ctx.path === "/sign-up/email" || ctx.path === "/update-user",
          handler: createAuthMiddleware(async (ctx) => {
            const parsed = userFields.safeParse({ name: ctx.body?.name, image: ctx.body?.image });
            if (!parsed.success) {
              throw APIError.from("BAD_REQUEST", {
                code: "INVALID_USER_FIELD",
                message: parsed.error.issues.map((i) => i.message).join("; "),
              });
            }
          }),
        },
        {
          // API keys always expire (1–365 days, auth.ts); the API key plugin reads expiresIn: null as "never".
          matcher: (ctx) => ctx.path === "/api-key/update",
          handler: createAuthMiddleware(async (ctx) => {
            if (ctx.body?.expiresIn === null) {
              throw APIError.from("BAD_REQUEST", {
                code: "INVALID_EXPIRY",
                message: "API keys expire: send expiresIn in seconds (1 to 365 days), or leave it out.",
              });
            }
          }),
        },
        {
          // A changed password signs out every session (streams included); the caller gets a new token.
          matcher: (ctx) => ctx.path === "/change-password",
          handler: createAuthMiddleware(async () => ({ context: { body: { revokeOtherSessions: true } } })),
        },
        {
          // Sessions are revoked by id; raw tokens of other sessions are never handed out.
          matcher: (ctx) => ctx.path === "/revoke-session",
          handler: createAuthMiddleware(async (ctx) => {
            const id = ctx.body?.id;
            if (typeof id !== "string" || id.length === 0 || id.length > 200 || "token" in (ctx.body ?? {})) {
              throw APIError.from("BAD_REQUEST", {
                code: "INVALID_SESSION_ID",
                message: "Send { id } of a session from list-sessions.",
              });
            }
            // Hooks see the request as sent (the bearer plugin's cookie comes later): read the bearer here.
            const token = verifiedBearer(ctx.headers?.get("authorization"), opts.secret);
            const current = token ? await ctx.context.internalAdapter.findSession(token) : null;
            if (!current)
              throw APIError.from("UNAUTHORIZED", { code: "UNAUTHORIZED", message: "Unauthorized" });
            const target = await ctx.context.adapter.findOne<StoredSession>({
              model: "session",
              where: [
                { field: "id", value: id },
                { field: "userId", value: current.session.userId },
              ],
            });
            if (!target) {
              throw APIError.from("NOT_FOUND", { code: "SESSION_NOT_FOUND", message: "No such session." });
            }
            return { context: { body: { token: target.token } } };
          }),
        },
      ],
      after: [
        {
          matcher: (ctx) => ctx.path === "/list-sessions",
          handler: createAuthMiddleware(async (ctx) => {
            const sessions = ctx.context.returned;
            if (!Array.isArray(sessions)) return;
            const currentToken = ctx.context.session?.session.token;
            return ctx.json(
              (sessions as StoredSession[]).map((s) => ({
                id: s.id,
                current: s.token === currentToken,
                userAgent: s.userAgent ?? null,
                ipAddress: s.ipAddress ?? null,
                createdAt: s.createdAt,
                updatedAt: s.updatedAt,
                expiresAt: s.expiresAt,
              })),
            );
          }),
        },
        {
          // Tokens in bodies are the signed bearer form too; a raw token alone no longer works anywhere.
          matcher: (ctx) => ctx.path === "/sign-in/email" || ctx.path === "/change-password",
          handler: createAuthMiddleware(async (ctx) => {
            const body = ctx.context.returned as { token?: unknown } | undefined;
            if (!body || typeof body !== "object" || typeof body.token !== "string") return;
            return ctx.json({ ...body, token: signSessionToken(body.token, opts.secret) });
          }),
        },
        {
          matcher: (ctx) => ctx.path === "/get-session",
          handler: createAuthMiddleware(async (ctx) => {
            const found = ctx.context.returned as { session?: { token?: unknown } } | null | undefined;
            if (!found || typeof found !== "object" || !found.session || !("token" in found.session)) return;
            const { token: _raw, ...session } = found.session;
            return ctx.json({ ...found, session });
          }),
        },
        {
          // The device grant hands out the raw session token; give the signed bearer form instead.
          matcher: (ctx) => ctx.path === "/device/token",
          handler: createAuthMiddleware(async (ctx) => {
            const grant = ctx.context.returned as { access_token?: unknown } | undefined;
            if (!grant || typeof grant !== "object" || typeof grant.access_token !== "string") return;
            return ctx.json({ ...grant, access_token: signSessionToken(grant.access_token, opts.secret) });
          }),
        },
      ],
    },
  } satisfies BetterAuthPlugin;
}
