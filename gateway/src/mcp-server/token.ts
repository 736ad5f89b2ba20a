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

const Claims = z.object({
  sub: z.string().min(1),
  exp: z.number(),
  tz: z.string().refine(isTimeZone).optional(),
});

const key = (secret: string) => new TextEncoder().encode(secret);

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
    .sign(key(secret));
}

export async function verifyMcpToken(
  secret: string,
  token: string,
  audience: string | URL,
): Promise<McpTokenSubject> {
  try {
    const { payload } = await jwtVerify(token, key(secret), {
      algorithms: [ALG],
      issuer: ISSUER,
      audience: String(audience),
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
