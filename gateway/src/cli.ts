import type { Server } from "node:http";
import { parseArgs } from "node:util";
import { exportToFile } from "./account/cli-export.ts";
import { AccountError, createApiKey, createUser, findUser } from "./auth/accounts.ts";
import { createAuth } from "./auth/auth.ts";
import { type Config, ConfigError, isTimeZone, loadConfig } from "./config.ts";
import type { Database } from "./db/connect.ts";
import { DataDirLockedError } from "./db/data-dir-lock.ts";
import { openDatabase } from "./db/open.ts";
import { startGateway } from "./http/server.ts";
import { createLogger } from "./logger.ts";
import { startMcpHttp } from "./mcp-server/main.ts";
import { serveStdio } from "./mcp-server/stdio.ts";
import { signMcpToken } from "./mcp-server/token.ts";
import { NoPasswordError, readPassword } from "./terminal.ts";

const USAGE = `Usage: margin <command> [options]

Commands:
  start [--no-extension]        MCP server and gateway together (embedded database unless DATABASE_URL is set)
  gateway                       the gateway alone (PORT)
  mcp [--stdio]                 the MCP server over HTTP (MCP_PORT), or over stdio for MARGIN_USER_ID
  migrate                       apply database migrations
  mcp-token --user-id U [--tz Z] [--ttl 10m]
                                print a signed MCP token for a user
  user create --email E [--name N] [--tz Z]
                                create an account; the password is asked at the terminal
                                (or read from MARGIN_PASSWORD; --password P also works but shells keep it)
  user show --email E           print an account's id, email and time zone (the id is what
                                mcp-token --user-id and MARGIN_USER_ID take)
  api-key create --email E [--name N]
                                print a new personal API key (shown once)
  export --email E [--format json|csv] [--out FILE]
                                a user's data as GET /api/export gives it (stdout unless --out)

Configuration comes from the environment; see README.md.`;

/** A mistake on the command line: print it with the usage. */
class UsageError extends Error {}

type Command = (args: string[], config: Config) => Promise<void>;

const commands: Record<string, Command> = {
  async start(args, config) {
    // The extension is built by its own package; this flag is accepted so scripts can ask for the servers only.
    parseArgs({ args, options: { "no-extension": { type: "boolean" } } });
    const logger = createLogger(config.logLevel);
    const database = await openDatabase(config);
    const mcp = await listening(startMcpHttp(config, database, logger.child({ service: "mcp" })), config);
    const gateway = await listening(
      startGateway(config, database, logger.child({ service: "gateway" })),
      config,
    );
    if (config.database.kind === "pglite")
      logger.info({ dir: config.database.dir }, "embedded database (PGlite)");
    onShutdown([gateway.server, mcp], async () => {
      await gateway.close();
      await new Promise((resolve) => mcp.close(resolve));
      await database.close();
    });
  },

  async gateway(_args, config) {
    const logger = createLogger(config.logLevel, { name: "margin-gateway" });
    const database = await openDatabase(config);
    const gateway = await listening(startGateway(config, database, logger), config);
    onShutdown([gateway.server], async () => {
      await gateway.close();
      await database.close();
    });
  },

  async "user create"(args, config) {
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

  async "user show"(args, config) {
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

  async "api-key create"(args, config) {
    const { values } = parseArgs({ args, options: { email: { type: "string" }, name: { type: "string" } } });
    if (!values.email) throw new UsageError("api-key create needs --email");
    await withAuth(config, async (auth, database) => {
      const key = await createApiKey(auth, database.db, { email: values.email!, name: values.name });
      console.error("Keep this key now: it is shown only once.");
      console.log(key.key);
    });
  },

  async export(args, config) {
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
      const logger = createLogger(config.logLevel, { name: "margin-export", fd: 2 });
      await exportToFile(database, logger, { email: values.email, format: values.format, out: values.out });
    } finally {
      await database.close();
    }
  },

  async migrate(_args, config) {
    const database = await openDatabase(config);
    await database.close();
    console.log(`Migrations applied (${database.kind}).`);
  },

  async mcp(args, config) {
    const { values } = parseArgs({ args, options: { stdio: { type: "boolean", default: false } } });
    if (values.stdio) {
      if (!config.stdioUser)
        throw new ConfigError("margin mcp --stdio needs MARGIN_USER_ID (and optionally MARGIN_TZ).");
      const logger = createLogger(config.logLevel, { name: "margin-mcp", fd: 2 });
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
      return;
    }
    const logger = createLogger(config.logLevel, { name: "margin-mcp" });
    const database = await openDatabase(config);
    const server = await listening(startMcpHttp(config, database, logger), config);
    onShutdown([server], async () => {
      await new Promise((resolve) => server.close(resolve));
      await database.close();
    });
  },

  async "mcp-token"(args, config) {
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
};

async function withAuth(
  config: Config,
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
async function listening<T>(starting: Promise<T>, config: Config): Promise<T> {
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
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
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
  try {
    await command(args, loadConfig());
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
