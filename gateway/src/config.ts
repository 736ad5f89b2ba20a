import { randomBytes } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
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

/**
 * Which proxies may set X-Forwarded-For: off (the socket's address is the client), a hop count, or the
 * proxies' addresses/CIDRs (Express's `trust proxy` names loopback, linklocal and uniquelocal too).
 * "true" (trust anyone) is refused: any client could then pick its own address and dodge the throttles.
 */
export type TrustProxy = false | number | string[];

const PROXY_NAMES = new Set(["loopback", "linklocal", "uniquelocal"]);

function isProxyAddress(entry: string): boolean {
  if (PROXY_NAMES.has(entry)) return true;
  const [address, bits, ...rest] = entry.split("/");
  const version = isIP(address ?? "");
  if (!version || rest.length) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d{1,3}$/.test(bits) && n <= (version === 4 ? 32 : 128);
}

const trustProxy = z.preprocess(emptyAsUndefined, z.string().optional()).transform((raw, ctx): TrustProxy => {
  const value = raw?.trim().toLowerCase();
  if (value === undefined || value === "false" || value === "0" || value === "off") return false;
  if (/^\d{1,2}$/.test(value)) return Number(value);
  const entries = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = entries.filter((e) => !isProxyAddress(e));
  if (value === "true" || bad.length || entries.length === 0) {
    ctx.addIssue({
      code: "custom",
      message: `must be off, a hop count, or proxy addresses/CIDRs (e.g. 10.0.0.0/8,loopback)${bad.length ? `; not an address: ${bad.join(", ")}` : ""}`,
    });
    return z.NEVER;
  }
  return entries;
});

/** The host[:port] names a URL answers to, with 127.0.0.1 and localhost standing in for each other. */
export function hostsOf(url: URL): string[] {
  const port = url.port ? `:${url.port}` : "";
  const twins: Record<string, string[]> = {
    "127.0.0.1": ["127.0.0.1", "localhost"],
    localhost: ["localhost", "127.0.0.1"],
  };
  return (twins[url.hostname] ?? [url.hostname]).map((h) => `${h}${port}`);
}

/** An origin and its loopback twin (`http://localhost:8787` ⇄ `http://127.0.0.1:8787`). */
export function originsOf(origin: string): string[] {
  try {
    const url = new URL(origin);
    if (url.protocol !== "http:" && url.protocol !== "https:") return [origin];
    return hostsOf(url).map((host) => `${url.protocol}//${host}`);
  } catch {
    return [origin];
  }
}

/** An IANA zone name Intl knows ("Europe/Berlin", "UTC"); offsets such as "+01:00" are not zones. */
export function isTimeZone(tz: string): boolean {
  if (tz.length === 0 || tz.length > 64 || !/^[A-Za-z][A-Za-z0-9_+/-]*$/.test(tz)) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const EnvSchema = z.object({
  NODE_ENV: z.preprocess(
    emptyAsUndefined,
    z.enum(["development", "production", "test"]).default("development"),
  ),
  DATABASE_URL: optional(z.url({ protocol: /^postgres(ql)?$/, error: "must be a postgres:// URL" })),
  DATA_DIR: z.preprocess(emptyAsUndefined, z.string().default(".data")),
  HOST: z.preprocess(emptyAsUndefined, z.string().default("127.0.0.1")),
  PORT: port(8787),
  MCP_PORT: port(8788),
  MCP_URL: optional(z.url()),
  PUBLIC_URL: optional(z.url()),
  MCP_TOKEN_SECRET: secret,
  BETTER_AUTH_SECRET: secret,
  MCP_ALLOWED_HOSTS: list,
  MCP_ALLOWED_ORIGINS: list,
  EXTENSION_ORIGINS: list,
  CHATKIT_DOMAIN_KEY: optional(z.string()),
  MARGIN_USER_ID: optional(z.string().min(1)),
  MARGIN_TZ: optional(timeZone),
  LOG_LEVEL: optional(z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])),
  LOG_FORMAT: optional(z.enum(["json", "pretty"])),
  WRITE_RATE_LIMIT_PER_MINUTE: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).default(120)),
  TRUST_PROXY: trustProxy,
  ALLOWED_HOSTS: list,
  CHAT_TURNS_PER_MINUTE: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(1).default(20)),
  CHAT_RETENTION_DAYS: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).default(90)),
});

/**
 * The Chrome extension as built from this repository (its manifest carries extension/dev-public-key.txt, which
 * fixes the id; test/cli-extension-id.test.ts checks the two agree). Allowed unless EXTENSION_ORIGINS is set,
 * so a newcomer's side panel reaches a local gateway with no configuration.
 */
export const DEV_EXTENSION_ORIGIN = "chrome-extension://kpoifepaaffmhajkoaakhnjmffojgooj";

/** The secrets a command may need; each command names its own, so none asks for one it does not use. */
export const SECRETS = {
  MCP_TOKEN_SECRET: "mcpTokenSecret",
  BETTER_AUTH_SECRET: "betterAuthSecret",
} as const;
export type SecretName = keyof typeof SECRETS;
type Secrets = { mcpTokenSecret: string; betterAuthSecret: string };

/** The configuration with only the secrets named in `S`. */
export type ConfigWith<S extends SecretName> = BaseConfig & Pick<Secrets, (typeof SECRETS)[S]>;
export type Config = BaseConfig & Secrets;

type BaseConfig = {
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
  mcpAllowedHosts: string[];
  mcpAllowedOrigins: string[];
  extensionOrigins: string[];
  /** ChatKit's domain key for the shell page; unset on localhost means a placeholder (http/panel-page.ts). */
  chatkitDomainKey: string | undefined;
  /** `margin mcp --stdio`'s user; `tz` (MARGIN_TZ) overrides the account's zone. */
  stdioUser: { id: string; tz: string | undefined } | undefined;
  /** warn on a terminal (the start summary says what matters), info otherwise. */
  logLevel: string;
  /** JSON lines for log collectors; pretty lines on a terminal. */
  logFormat: "json" | "pretty";
  writeRateLimitPerMinute: number;
  /** Which proxies' X-Forwarded-For is believed (off by default). */
  trustProxy: TrustProxy;
  /** Host names the gateway answers besides PUBLIC_URL's (DNS-rebinding defence). */
  allowedHosts: string[];
  /** Chat turns (messages the model answers) per user per minute. */
  chatTurnsPerMinute: number;
  /** Chat threads idle this many days are deleted; 0 keeps them. */
  chatRetentionDays: number;
};

type Env = Record<string, string | undefined>;

/**
 * Reads and validates the environment once, with the `secrets` the caller uses (all by default). Secrets
 * missing in the embedded (PGlite) setup are generated and kept with the data; with a real DATABASE_URL they
 * must be given, so every instance signs alike.
 */
export function loadConfig<S extends SecretName = SecretName>(
  env: Env = process.env,
  opts: {
    secrets?: readonly S[] /** stdout is a terminal: a person reads the logs */;
    terminal?: boolean;
  } = {},
): ConfigWith<S> {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".") || "(env)"}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.DATA_DIR);
  const embedded = e.DATABASE_URL === undefined;
  const names = opts.secrets ?? (Object.keys(SECRETS) as S[]);
  const secrets = embedded ? embeddedSecrets(dataDir, e, names) : requiredSecrets(e, names);
  // Moving MCP_PORT moves the URL the gateway calls, unless MCP_URL says where the MCP server is published.
  const mcpUrl = new URL(e.MCP_URL ?? `http://127.0.0.1:${e.MCP_PORT}/mcp`);
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
    extensionOrigins: e.EXTENSION_ORIGINS.length ? e.EXTENSION_ORIGINS : [DEV_EXTENSION_ORIGIN],
    chatkitDomainKey: e.CHATKIT_DOMAIN_KEY,
    stdioUser: e.MARGIN_USER_ID ? { id: e.MARGIN_USER_ID, tz: e.MARGIN_TZ } : undefined,
    logLevel: e.LOG_LEVEL ?? (opts.terminal ? "warn" : "info"),
    logFormat: e.LOG_FORMAT ?? (opts.terminal ? "pretty" : "json"),
    writeRateLimitPerMinute: e.WRITE_RATE_LIMIT_PER_MINUTE,
    trustProxy: e.TRUST_PROXY,
    allowedHosts: e.ALLOWED_HOSTS.map((h) => h.toLowerCase()),
    chatTurnsPerMinute: e.CHAT_TURNS_PER_MINUTE,
    chatRetentionDays: e.CHAT_RETENTION_DAYS,
  };
}

type SecretValues = Partial<Record<SecretName, string>>;

function pick<S extends SecretName>(values: SecretValues, names: readonly S[]) {
  return Object.fromEntries(names.map((n) => [SECRETS[n], values[n]])) as Pick<Secrets, (typeof SECRETS)[S]>;
}

function requiredSecrets<S extends SecretName>(e: SecretValues, names: readonly S[]) {
  const missing = names.filter((k) => !e[k]);
  if (missing.length) {
    throw new ConfigError(
      `Invalid configuration:\n${missing.map((k) => `  ${k}: required when DATABASE_URL is set (at least 32 characters, e.g. \`openssl rand -base64 32\`)`).join("\n")}`,
    );
  }
  return pick(e, names);
}

/**
 * secrets.json in the data directory: what the embedded setup generated, under the variables' names. Secrets
 * set in the environment win and are not written. Two first starts on one folder race here, before the data
 * folder's lock: the file appears whole and only once (written aside, then linked), so the loser reads the
 * winner's secrets instead of signing with its own.
 */
function embeddedSecrets<S extends SecretName>(dataDir: string, e: SecretValues, names: readonly S[]) {
  const file = path.join(dataDir, "secrets.json");
  for (;;) {
    const stored = readStoredSecrets(file);
    const values: SecretValues = {};
    for (const name of names) values[name] = e[name] ?? stored?.[SECRETS[name]];
    const missing = names.filter((name) => !values[name]);
    if (!missing.length) return pick(values, names);
    const next = { ...stored };
    for (const name of missing) next[SECRETS[name]] = randomBytes(32).toString("base64url");
    mkdirSync(dataDir, { recursive: true });
    const aside = `${file}.${process.pid}.tmp`;
    writeFileSync(aside, JSON.stringify(next, null, 2), { mode: 0o600 });
    try {
      if (stored) renameSync(aside, file);
      else linkSync(aside, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    } finally {
      rmSync(aside, { force: true });
    }
  }
}

type StoredSecrets = Partial<Record<(typeof SECRETS)[SecretName], string>>;

function readStoredSecrets(file: string): StoredSecrets | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as StoredSecrets;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined; // first run: nothing kept yet
    throw new ConfigError(`${file} is not readable JSON (${(err as Error).message}); fix or remove it`);
  }
}
