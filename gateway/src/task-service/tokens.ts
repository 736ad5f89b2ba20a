import { signMcpToken } from "../mcp-server/token.ts";

export type TokenUser = { id: string; timezone: string };

const MAX_KEPT = 10_000;

/**
 * The MCP tokens the gateway signs for its users, kept until shortly before they expire: signing one costs more
 * than the rest of a forwarded call's own work.
 */
export function createMcpTokens(opts: { secret: string; audience: URL; ttlSeconds: number }) {
  const tokens = new Map<string, { token: string; renewAt: number }>();
  const renewAfterMs = Math.max(opts.ttlSeconds / 2, opts.ttlSeconds - 60) * 1000;
  return {
    async tokenFor(user: TokenUser): Promise<string> {
      const key = `${user.id}\u0000${user.timezone}`;
      const cached = tokens.get(key);
      if (cached && cached.renewAt > Date.now()) return cached.token;
      const token = await signMcpToken(opts.secret, {
        userId: user.id,
        tz: user.timezone,
        audience: opts.audience,
        ttl: `${opts.ttlSeconds}s`,
      });
      if (tokens.size >= MAX_KEPT) {
        for (const [k, kept] of tokens) if (kept.renewAt <= Date.now()) tokens.delete(k);
        if (tokens.size >= MAX_KEPT) tokens.clear();
      }
      tokens.set(key, { token, renewAt: Date.now() + renewAfterMs });
      return token;
    },
  };
}
