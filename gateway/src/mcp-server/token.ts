import { errors, jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import { isTimeZone } from "../config.ts";

/**
 * MCP access tokens: short-lived HS256 JWTs the gateway signs for one user. `sub` is the user, `aud` the MCP
 * server's URL, `tz` the user's IANA zone for dates. The MCP server trusts nothing else about identity.
 */
const ISSUER = "margin-gateway";
const ALG = "HS256";

export type McpTokenSubject = { userId: string; tz: string; expiresAt: number };

export class InvalidMcpTokenError extends Error {
  override name = "InvalidMcpTokenError";
}

// Checking a zone builds an Intl.DateTimeFormat (tens of microseconds); a process sees few distinct zones.
const knownZones = new Set<string>();
const isKnownZone = (tz: string) => {
  if (knownZones.has(tz)) return true;
  if (!isTimeZone(tz)) return false;
  if (knownZones.size < 1_000) knownZones.add(tz);
  return true;
};

const Claims = z.object({
  sub: z.string().min(1),
  exp: z.number(),
  tz: z.string().refine(isKnownZone).optional(),
});

// The HMAC key, imported once per secret: given raw bytes, jose imports a WebCrypto key on every sign/verify.
let cachedKey: { secret: string; key: Promise<CryptoKey> } | undefined;
function key(secret: string): Promise<CryptoKey> {
  if (cachedKey?.secret !== secret) {
    const imported = crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    cachedKey = { secret, key: imported };
  }
  return cachedKey.key;
}

export async function signMcpToken(
  secret: string,
  opts: { userId: string; audience: string | URL; tz?: string; ttl?: string | number },
): Promise<string> {
  return new SignJWT(opts.tz ? { tz: opts.tz } : {})
    .setProtectedHeader({ alg: ALG })
    .setIssuer(ISSUER)
    .setSubject(opts.userId)
    .setAudience(String(opts.audience))
    .setIssuedAt()
    .setExpirationTime(opts.ttl ?? "10m")
    .sign(await key(secret));
}

/**
 * Tokens verified recently, by token. A client makes many calls with one token (an agent run, a proxied
 * session), and a full verification (WebCrypto HMAC, claims) costs about 0.15 ms of a call's ~1 ms. A hit
 * re-checks expiry, the only verdict that changes with time (a passed `nbf` stays passed); a different secret
 * or audience is a miss. Bounded: the oldest entry goes first.
 */
const verified = new Map<string, { secret: string; audience: string; subject: McpTokenSubject }>();
const VERIFIED_MAX = 5_000;

export async function verifyMcpToken(
  secret: string,
  token: string,
  audience: string | URL,
): Promise<McpTokenSubject> {
  const aud = String(audience);
  const hit = verified.get(token);
  if (hit && hit.secret === secret && hit.audience === aud) {
    // jose's rule: expired once `exp` <= now in whole seconds.
    if (hit.subject.expiresAt > Math.floor(Date.now() / 1000)) return { ...hit.subject };
    verified.delete(token);
    throw new InvalidMcpTokenError("Token has expired");
  }
  const subject = await verifyFully(secret, token, aud);
  if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value!);
  verified.set(token, { secret, audience: aud, subject });
  return { ...subject };
}

async function verifyFully(secret: string, token: string, audience: string): Promise<McpTokenSubject> {
  try {
    const { payload } = await jwtVerify(token, await key(secret), {
      algorithms: [ALG],
      issuer: ISSUER,
      audience,
      requiredClaims: ["sub", "exp"],
    });
    const claims = Claims.parse(payload);
    return { userId: claims.sub, tz: claims.tz ?? "UTC", expiresAt: claims.exp };
  } catch (err) {
    if (err instanceof errors.JWTExpired) throw new InvalidMcpTokenError("Token has expired");
    if (err instanceof errors.JWTClaimValidationFailed && err.claim === "aud") {
      throw new InvalidMcpTokenError("Token was not issued for this resource");
    }
    throw new InvalidMcpTokenError("Token is invalid");
  }
}
