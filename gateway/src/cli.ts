import { existsSync, mkdirSync } from "node:fs";
import type { Server } from "node:http";
import path from "node:path";
import { parseArgs } from "node:util";
import { exportToFile } from "./account/cli-export.ts";
import { describeModel, MODEL_ENV, type ModelConfig, readModelConfig } from "./agent/model-config.ts";
import { chatAgentFor } from "./agent/stdio-tools.ts";
import { AccountError, createApiKey, createUser, findUser } from "./auth/accounts.ts";
import { createAuth } from "./auth/auth.ts";
import { BuildError, buildIfStale, CHATKIT_PAGE, EXTENSION, EXTENSION_OUTPUT, REPO_ROOT } from "./builds.ts";
import {
  type Config,
  ConfigError,
  type ConfigWith,
  isTimeZone,
  loadConfig,
  type SecretName,
} from "./config.ts";
import type { Database } from "./db/connect.ts";
import { acquireDataDirLock, DataDirLockedError } from "./db/data-dir-lock.ts";
import { openDatabase } from "./db/open.ts";
import { describeEnv, type EnvName } from "./env-help.ts";
import { startGateway } from "./http/server.ts";
import { createLogger } from "./logger.ts";
import { startMcpHttp } from "./mcp-server/main.ts";
import { serveStdio } from "./mcp-server/stdio.ts";
import { signMcpToken } from "./mcp-server/token.ts";
import { NoPasswordError, readPassword, startSummary } from "./terminal.ts";

/** A mistake on the command line: print it with the usage. */
class UsageError extends Error {}

/** One `margin` command: what it takes, the environment it reads, and the secrets it needs (and only those). */
type Command<S extends SecretName> = {
  usage: string;
  summary: string;
  env: readonly EnvName[];
  secrets: readonly S[];
  /** The secrets this invocation needs, when its options drop some of `secrets` (`mcp --stdio` signs nothing). */
  secretsFor?(args: string[]): readonly S[];
  run(args: string[], config: ConfigWith<S>): Promise<void>;
};
type AnyCommand = Command<SecretName>;

/** Keeps each command's `run` typed by the secrets it declares. */
const command = <S extends SecretName = never>(c: Command<S>) => c as unknown as AnyCommand;

const DATABASE: EnvName[] = ["DATABASE_URL", "DATA_DIR"];
const LOGS: EnvName[] = ["LOG_LEVEL", "LOG_FORMAT"];
const GATEWAY: EnvName[] = [
  "HOST",
  "PORT",
  "PUBLIC_URL",
  "MCP_URL",
  "EXTENSION_ORIGINS",
  "ALLOWED_HOSTS",
  "TRUST_PROXY",
  "CHATKIT_DOMAIN_KEY",
  "WRITE_RATE_LIMIT_PER_MINUTE",
  "CHAT_TURNS_PER_MINUTE",
  "CHAT_RETENTION_DAYS",
];
const MCP: EnvName[] = [
  "HOST",
  "MCP_PORT",
  "MCP_URL",
  "PUBLIC_URL",
  "MCP_ALLOWED_HOSTS",
  "MCP_ALLOWED_ORIGINS",
];

const commands: Record<string, AnyCommand> = {
  start: command({
    usage: "start [--no-extension]",
    summary:
      "MCP server and gateway in one process (embedded database unless DATABASE_URL is set), " +
      "after building the ChatKit page and the extension if their sources changed",
    env: ["NODE_ENV", ...DATABASE, ...new Set([...GATEWAY, ...MCP]), ...MODEL_ENV, ...LOGS],
    secrets: ["MCP_TOKEN_SECRET", "BETTER_AUTH_SECRET"],
    async run(args, config) {
      const { values } = parseArgs({
        args,
        options: { "no-extension": { type: "boolean", default: false } },
      });
      // First, so a second start on the same data folder stops at once with one clear line, before any build.
      const lock = config.database.kind === "pglite" ? lockDataDir(config.database.dir) : undefined;
      let database: Database;
      let models: ModelConfig;
      try {
        models = readModelConfig(process.env);
        await buildFrontEnds({ extension: !values["no-extension"] });
        database = await openDatabase(config, { lock });
      } catch (err) {
        lock?.();
        throw err;
      }
      const logger = loggerFor(config);
      const mcp = await listening(startMcpHttp(config, database, logger.child({ service: "mcp" })), config);
      const gateway = await listening(
        startGateway(config, database, logger.child({ service: "gateway" }), {
          chatAgent: chatAgentFor(models),
        }),
        config,
      );
      if (config.database.kind === "pglite")
        logger.info({ dir: config.database.dir }, "embedded database (PGlite)");
      if (process.stdout.isTTY)
        process.stdout.write(
          startSummary({
            gatewayUrl: config.publicUrl,
            mcpUrl: config.mcpUrl,
            database: config.database,
            extension: builtExtension(),
            model: describeModel(models),
          }),
        );
      onShutdown([gateway.server, mcp], async () => {
        await gateway.close();
        await new Promise((resolve) => mcp.close(resolve));
        await database.close();
      });
    },
  }),

  gateway: command({
    usage: "gateway",
    summary: "the gateway alone, calling the MCP server at MCP_URL",
    env: ["NODE_ENV", ...DATABASE, ...GATEWAY, "MCP_PORT", ...MODEL_ENV, ...LOGS],
    secrets: ["MCP_TOKEN_SECRET", "BETTER_AUTH_SECRET"],
    async run(_args, config) {
      const models = readModelConfig(process.env);
      const logger = loggerFor(config, { name: "margin-gateway" });
      const database = await openDatabase(config);
      const gateway = await listening(
        startGateway(config, database, logger, { chatAgent: chatAgentFor(models) }),
        config,
      );
      onShutdown([gateway.server], async () => {
        await gateway.close();
        await database.close();
      });
    },
  }),

  mcp: command({
    usage: "mcp [--stdio]",
    summary: "the MCP server over HTTP (MCP_PORT), or over stdio for MARGIN_USER_ID",
    env: [...DATABASE, ...MCP, "MARGIN_USER_ID", "MARGIN_TZ", ...LOGS],
    secrets: ["MCP_TOKEN_SECRET"],
    // Over stdio the one user is MARGIN_USER_ID and no token is signed or verified.
    secretsFor: (args) => (args.includes("--stdio") ? [] : ["MCP_TOKEN_SECRET"]),
    async run(args, config) {
      const { values } = parseArgs({ args, options: { stdio: { type: "boolean", default: false } } });
      if (values.stdio) return serveMcpStdio(config);
      const logger = loggerFor(config, { name: "margin-mcp" });
      const database = await openDatabase(config);
      const server = await listening(startMcpHttp(config, database, logger), config);
      onShutdown([server], async () => {
        await new Promise((resolve) => server.close(resolve));
        await database.close();
      });
    },
  }),

  migrate: command({
    usage: "migrate",
    summary: "apply database migrations",
    env: DATABASE,
    secrets: [],
    async run(_args, config) {
      const database = await openDatabase(config);
      await database.close();
      console.log(`Migrations applied (${database.kind}).`);
    },
  }),

  "mcp-token": command({
    usage: "mcp-token --user-id U [--tz Z] [--ttl 10m]",
    summary: "print a signed MCP token for a user (its audience is MCP_URL)",
    env: [...DATABASE, "MCP_PORT", "MCP_URL"],
    secrets: ["MCP_TOKEN_SECRET"],
    async run(args, config) {
      const { values } = parseArgs({
        args,
        options: {
          "user-id": { type: "string" },
          tz: { type: "string" },
          ttl: { type: "string", default: "10m" },
        },
      });
      const userId = values["user-id"];
      if (!userId) throw new UsageError("mcp-token needs --user-id");
      if (values.tz && !isTimeZone(values.tz))
        throw new UsageError(`--tz: "${values.tz}" is not an IANA time zone`);
      if (!/^\d+[smhd]$/.test(values.ttl))
        throw new UsageError('--ttl: a duration such as "30s", "10m", "2h" or "1d"');
      console.log(
        await signMcpToken(config.mcpTokenSecret, {
          userId,
          tz: values.tz,
          ttl: values.ttl,
          audience: config.mcpUrl,
        }),
      );
    },
  }),

  "user create": command({
    usage: "user create --email E [--name N] [--tz Z]",
    summary:
      "create an account; the password is asked at the terminal (or read from MARGIN_PASSWORD; " +
      "--password P also works but shells keep it)",
    env: [...DATABASE, "PORT", "PUBLIC_URL", "MARGIN_PASSWORD"],
    secrets: ["BETTER_AUTH_SECRET"],
    async run(args, config) {
      const { values } = parseArgs({
        args,
        options: {
          email: { type: "string" },
          password: { type: "string" },
          name: { type: "string" },
          tz: { type: "string" },
        },
      });
      if (!values.email) throw new UsageError("user create needs --email");
      const password = values.password ?? (await readPassword(`Password for ${values.email}: `));
      await withAuth(config, async (auth) => {
        const user = await createUser(auth, {
          email: values.email!,
          password,
          name: values.name,
          timezone: values.tz,
        });
        console.log(JSON.stringify({ id: user.id, email: user.email, timezone: user.timezone }));
      });
    },
  }),

  "user show": command({
    usage: "user show --email E",
    summary:
      "print an account's id, email and time zone (the id is what mcp-token --user-id and MARGIN_USER_ID take)",
    env: DATABASE,
    secrets: [],
    async run(args, config) {
      const { values } = parseArgs({ args, options: { email: { type: "string" } } });
      if (!values.email) throw new UsageError("user show needs --email");
      const database = await openDatabase(config);
      try {
        const found = await findUser(database.db, values.email);
        console.log(JSON.stringify(found));
      } finally {
        await database.close();
      }
    },
  }),

  "api-key create": command({
    usage: "api-key create --email E [--name N]",
    summary: "print a new personal API key for MCP clients (shown once)",
    env: [...DATABASE, "PORT", "PUBLIC_URL"],
    secrets: ["BETTER_AUTH_SECRET"],
    async run(args, config) {
      const { values } = parseArgs({
        args,
        options: { email: { type: "string" }, name: { type: "string" } },
      });
      if (!values.email) throw new UsageError("api-key create needs --email");
      await withAuth(config, async (auth, database) => {
        const key = await createApiKey(auth, database.db, { email: values.email!, name: values.name });
        console.error("Keep this key now: it is shown only once.");
        console.log(key.key);
      });
    },
  }),

  export: command({
    usage: "export --email E [--format json|csv] [--out FILE]",
    summary: "a user's data as GET /api/export gives it (stdout unless --out)",
    env: [...DATABASE, ...LOGS],
    secrets: [],
    async run(args, config) {
      const { values } = parseArgs({
        args,
        options: {
          email: { type: "string" },
          format: { type: "string", default: "json" },
          out: { type: "string" },
        },
      });
      if (!values.email) throw new UsageError("export needs --email");
      if (values.format !== "json" && values.format !== "csv") throw new UsageError("--format: json or csv");
      const database = await openDatabase(config);
      try {
        const logger = loggerFor(config, { name: "margin-export", fd: 2 });
        await exportToFile(database, logger, { email: values.email, format: values.format, out: values.out });
      } finally {
        await database.close();
      }
    },
  }),
};

/** Every command, its usage and its variables (tests check the lists against the configuration schema). */
export const commandList = Object.entries(commands).map(([name, c]) => ({ name, ...c }));

const USAGE = `Usage: margin <command> [options]

Commands:
${commandList.map((c) => `  ${c.usage}\n      ${c.summary}`).join("\n")}

\`margin <command> --help\` lists the environment variables a command reads; see README.md.`;

function commandHelp(c: AnyCommand): string {
  return `Usage: margin ${c.usage}\n\n${c.summary}.\n\nEnvironment:\n${describeEnv(
    [...new Set([...c.env, ...c.secrets])],
    c.secrets,
  )}`;
}

function loggerFor(config: Pick<Config, "logLevel" | "logFormat">, opts: { name?: string; fd?: 1 | 2 } = {}) {
  return createLogger(config.logLevel, { ...opts, pretty: config.logFormat === "pretty" });
}

/** The folders to load unpacked, if the extension is built (now or before). */
function builtExtension() {
  const folders = {
    chrome: path.join(REPO_ROOT, EXTENSION_OUTPUT.chrome),
    firefox: path.join(REPO_ROOT, EXTENSION_OUTPUT.firefox),
  };
  return Object.values(folders).every((dir) => existsSync(path.join(dir, "manifest.json")))
    ? folders
    : undefined;
}

function lockDataDir(dir: string): () => void {
  mkdirSync(path.dirname(dir), { recursive: true });
  return acquireDataDirLock(dir);
}

/** The ChatKit page and (unless skipped) the extension, each rebuilt only when its sources changed. */
async function buildFrontEnds(opts: { extension: boolean }) {
  for (const frontEnd of opts.extension ? [CHATKIT_PAGE, EXTENSION] : [CHATKIT_PAGE]) {
    const started = performance.now();
    const outcome = await buildIfStale(frontEnd, {
      onBuild: () => process.stderr.write(`margin: building ${frontEnd.name}…`),
    });
    if (outcome === "built")
      process.stderr.write(` done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  }
}

/** `margin mcp --stdio`: one user's tools over stdin/stdout, until the client closes stdin. */
async function serveMcpStdio(config: ConfigWith<never>) {
  if (!config.stdioUser)
    throw new ConfigError("margin mcp --stdio needs MARGIN_USER_ID (and optionally MARGIN_TZ).");
  const logger = loggerFor(config, { name: "margin-mcp", fd: 2 });
  const database = await openDatabase(config);
  const session = await serveStdio(database, config.stdioUser, logger).catch(async (err) => {
    await database.close();
    throw err;
  });
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= session.close().finally(() => database.close());
    return stopping;
  };
  onShutdown([], stop);
  // The client closing stdin ends the session: stop at once, releasing the embedded database's lock.
  void session.ended.then(stop).then(
    () => process.exit(0),
    (err) => {
      console.error("margin: error while stopping after stdin closed:", err);
      process.exit(1);
    },
  );
}

async function withAuth(
  config: ConfigWith<"BETTER_AUTH_SECRET">,
  use: (auth: ReturnType<typeof createAuth>, database: Database) => Promise<void>,
) {
  const database = await openDatabase(config);
  try {
    const auth = createAuth(database.db, {
      baseURL: config.publicUrl.origin,
      secret: config.betterAuthSecret,
      trustedOrigins: [config.publicUrl.origin],
    });
    await use(auth, database);
  } finally {
    await database.close();
  }
}

/** A port another process holds: one line naming the variable to change, not a stack trace. */
class PortInUseError extends Error {
  override name = "PortInUseError";
}

/** Awaits a server start, turning EADDRINUSE into a message that names PORT or MCP_PORT. */
async function listening<T>(starting: Promise<T>, config: Pick<Config, "mcpPort">): Promise<T> {
  try {
    return await starting;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { port?: number };
    if (e.code !== "EADDRINUSE") throw err;
    const variable = e.port === config.mcpPort ? "MCP_PORT" : "PORT";
    throw new PortInUseError(
      `port ${e.port} is already in use (${variable}). Stop what is using it, or set ${variable} to a free port.`,
    );
  }
}

/** Open connections (live streams, browser tabs, chat runs) get this long before they are cut. */
const SHUTDOWN_GRACE_MS = 1000;

/**
 * Stops cleanly on SIGINT/SIGTERM: servers stop accepting, live streams end, and whatever is still connected
 * after a short grace is cut, so a browser tab or a stream never holds the process (and the data directory).
 */
function onShutdown(servers: Server[], close: () => Promise<void>) {
  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    setTimeout(() => {
      for (const server of servers) server.closeAllConnections();
    }, SHUTDOWN_GRACE_MS).unref();
    close().then(
      () => process.exit(0),
      (err) => {
        console.error(`margin: error while stopping after ${signal}:`, err);
        process.exit(1);
      },
    );
  };
  // `on`, not `once`: the Agents SDK adds its own SIGINT listener, and ours must still run on every signal.
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

export async function main(argv: string[]): Promise<void> {
  const [first, second, ...rest] = argv;
  const name = first && commands[`${first} ${second}`] ? `${first} ${second}` : first;
  const command = name ? commands[name] : undefined;
  if (!command || first === "--help" || first === "-h") {
    console.log(USAGE);
    if (!command && first && first !== "--help" && first !== "-h") process.exitCode = 2;
    return;
  }
  const args = name === first ? argv.slice(1) : rest;
  if (args.includes("--help") || args.includes("-h")) {
    console.log(commandHelp(command));
    return;
  }
  try {
    const terminal = process.stdout.isTTY === true;
    const secrets = command.secretsFor?.(args) ?? command.secrets;
    await command.run(args, loadConfig(process.env, { secrets, terminal }));
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`margin: ${err.message}\n\n${USAGE}`);
      process.exit(2);
    }
    if (
      err instanceof ConfigError ||
      err instanceof DataDirLockedError ||
      err instanceof AccountError ||
      err instanceof NoPasswordError ||
      err instanceof PortInUseError ||
      err instanceof BuildError ||
      isArgError(err)
    ) {
      console.error(`margin: ${err instanceof Error ? err.message : err}`);
      process.exit(1);
    }
    throw err;
  }
}

function isArgError(err: unknown): err is Error {
  return err instanceof TypeError && "code" in err && String(err.code).startsWith("ERR_PARSE_ARGS");
}
