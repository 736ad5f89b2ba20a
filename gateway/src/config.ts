import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";

/** A configuration problem found at start-up; the CLI prints it and exits. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const emptyAsUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(emptyAsUndefined, schema.optional());
const port = (fallback: number) =>
  z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(65535).default(fallback));
const list = z.preprocess(
  (v) =>
    typeof v === "string"
      ? v
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
      : v,
  z.array(z.string()).default([]),
);
const secret = optional(z.string().min(32, "must be at least 32 characters"));
const timeZone = z.string().refine(isTimeZone, "must be an IANA time zone such as Europe/Berlin");

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return tz.length > 0;
  } catch {
    return false;
  }
}

const EnvSchema = z.object({
  NODE_ENV: z.preprocess(
    emptyAsUndefined,
    z.enum(["development", "production", "test"]).default("development"),
  ),
  DATABASE_URL: optional(z.url({ protocol: /^postgres(ql)?$/, error: "must be a postgres:// URL" })),
  DATA_DIR: z.preprocess(emptyAsUndefined, z.string().default(".data")),
  HOST: z.preprocess(emptyAsUndefined, z.string().default("127.0.0.1")),
  PORT: port(8787),
  MCP_PORT: port(8788),
  MCP_URL: z.preprocess(emptyAsUndefined, z.url().default("http://127.0.0.1:8788/mcp")),
  PUBLIC_URL: optional(z.url()),
  MCP_TOKEN_SECRET: secret,
  BETTER_AUTH_SECRET: secret,
  MCP_ALLOWED_HOSTS: list,
  MCP_ALLOWED_ORIGINS: list,
  EXTENSION_ORIGINS: list,
  CHATKIT_DOMAIN_KEY: optional(z.string()),
  MARGIN_USER_ID: optional(z.string().min(1)),
  MARGIN_TZ: optional(timeZone),
  LOG_LEVEL: z.preprocess(
    emptyAsUndefined,
    z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  ),
  WRITE_RATE_LIMIT_PER_MINUTE: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).default(120)),
  CHAT_TURNS_PER_MINUTE: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).default(20)),
  CHAT_RETENTION_DAYS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).default(90)),
});

export type Config = {
  env: "development" | "production" | "test";
  database: { kind: "postgres"; url: string } | { kind: "pglite"; dir: string };
  dataDir: string;
  host: string;
  port: number;
  mcpPort: number;
  /** The MCP server's public URL; the audience of every MCP token. */
  mcpUrl: URL;
  /** The gateway's public URL (better-auth base URL, device page). */
  publicUrl: URL;
  mcpTokenSecret: string;
  betterAuthSecret: string;
  mcpAllowedHosts: string[];
  mcpAllowedOrigins: string[];
  extensionOrigins: string[];
  /** ChatKit's domain key for the shell page; unset on localhost means a placeholder (http/panel-page.ts). */
  chatkitDomainKey: string | undefined;
  /** `margin mcp --stdio`'s user; `tz` (MARGIN_TZ) overrides the account's zone. */
  stdioUser: { id: string; tz: string | undefined } | undefined;
  logLevel: string;
  writeRateLimitPerMinute: number;
  /** Chat turns (messages the model answers) per user per minute. */
  chatTurnsPerMinute: number;
  /** Chat threads idle this many days are deleted; 0 keeps them. */
  chatRetentionDays: number;
};

type Env = Record<string, string | undefined>;

/**
 * Reads and validates the environment once. Secrets missing in the embedded (PGlite) setup are generated
 * and kept with the data; with a real DATABASE_URL they must be given, so every instance signs alike.
 */
export function loadConfig(env: Env = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".") || "(env)"}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.DATA_DIR);
  const embedded = e.DATABASE_URL === undefined;
  const secrets = embedded ? embeddedSecrets(dataDir, e) : requiredSecrets(e);
  const mcpUrl = new URL(e.MCP_URL);
  const publicUrl = new URL(e.PUBLIC_URL ?? `http://127.0.0.1:${e.PORT}`);
  return {
    env: e.NODE_ENV,
    database: embedded
      ? { kind: "pglite", dir: path.join(dataDir, "pglite") }
      : { kind: "postgres", url: e.DATABASE_URL! },
    dataDir,
    host: e.HOST,
    port: e.PORT,
    mcpPort: e.MCP_PORT,
    mcpUrl,
    publicUrl,
    ...secrets,
    mcpAllowedHosts: e.MCP_ALLOWED_HOSTS.length
      ? e.MCP_ALLOWED_HOSTS
      : [...new Set([mcpUrl.hostname, "127.0.0.1", "localhost", "[::1]"])],
    // A browser on the server's own origin is not a rebinding attack.
    mcpAllowedOrigins: [...new Set([mcpUrl.origin, ...e.MCP_ALLOWED_ORIGINS])],
    extensionOrigins: e.EXTENSION_ORIGINS,
    chatkitDomainKey: e.CHATKIT_DOMAIN_KEY,
    stdioUser: e.MARGIN_USER_ID ? { id: e.MARGIN_USER_ID, tz: e.MARGIN_TZ } : undefined,
    logLevel: e.LOG_LEVEL,
    writeRateLimitPerMinute: e.WRITE_RATE_LIMIT_PER_MINUTE,
    chatTurnsPerMinute: e.CHAT_TURNS_PER_MINUTE,
    chatRetentionDays: e.CHAT_RETENTION_DAYS,
  };
}

function requiredSecrets(e: z.infer<typeof EnvSchema>) {
  const missing = (["MCP_TOKEN_SECRET", "BETTER_AUTH_SECRET"] as const).filter((k) => !e[k]);
  if (missing.length) {
    throw new ConfigError(
      `Invalid configuration:\n${missing.map((k) => `  ${k}: required when DATABASE_URL is set (at least 32 characters, e.g. \`openssl rand -base64 32\`)`).join("\n")}`,
    );
  }
  return { mcpTokenSecret: e.MCP_TOKEN_SECRET!, betterAuthSecret: e.BETTER_AUTH_SECRET! };
}

function embeddedSecrets(dataDir: string, e: z.infer<typeof EnvSchema>) {
  const file = path.join(dataDir, "secrets.json");
  let stored: { mcpTokenSecret?: string; betterAuthSecret?: string } = {};
  try {
    stored = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    // first run: nothing kept yet
  }
  const secrets = {
    mcpTokenSecret: e.MCP_TOKEN_SECRET ?? stored.mcpTokenSecret ?? randomBytes(32).toString("base64url"),
    betterAuthSecret:
      e.BETTER_AUTH_SECRET ?? stored.betterAuthSecret ?? randomBytes(32).toString("base64url"),
  };
  if (
    secrets.mcpTokenSecret !== stored.mcpTokenSecret ||
    secrets.betterAuthSecret !== stored.betterAuthSecret
  ) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  return secrets;
}
