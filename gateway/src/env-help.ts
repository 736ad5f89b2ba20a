// One line per environment variable, for `margin <command> --help`. Each command lists the ones it reads.

export const ENV_HELP = {
  NODE_ENV: "development (default), production or test",
  DATABASE_URL: "postgres:// URL; unset = embedded PGlite in DATA_DIR",
  DATA_DIR: "where the embedded database and its generated secrets live (default .data)",
  HOST: "address the servers listen on (default 127.0.0.1)",
  PORT: "gateway port (default 8787)",
  PUBLIC_URL: "the gateway's public URL (default http://127.0.0.1:PORT)",
  MCP_PORT: "MCP server port (default 8788)",
  MCP_URL: "the MCP server's public URL and token audience (default http://127.0.0.1:MCP_PORT/mcp)",
  MCP_TOKEN_SECRET: "signing key for MCP tokens, 32+ characters",
  BETTER_AUTH_SECRET: "signing key for sessions, 32+ characters",
  MCP_ALLOWED_HOSTS:
    "Host headers the MCP server answers, comma-separated (default MCP_URL's host and loopback)",
  MCP_ALLOWED_ORIGINS: "browser origins allowed to call the MCP server, comma-separated",
  EXTENSION_ORIGINS:
    "extension origins allowed to call the gateway, comma-separated (default: this repository's Chrome build)",
  ALLOWED_HOSTS: "Host names the gateway answers besides PUBLIC_URL's, comma-separated",
  TRUST_PROXY: "proxies whose X-Forwarded-For is believed: off (default), a hop count, or addresses/CIDRs",
  CHATKIT_DOMAIN_KEY: "ChatKit's domain key (a placeholder is used on localhost)",
  WRITE_RATE_LIMIT_PER_MINUTE: "task writes per user per minute (default 120)",
  CHAT_TURNS_PER_MINUTE: "chat turns per user per minute (default 20)",
  CHAT_RETENTION_DAYS: "chat threads idle this many days are deleted; 0 keeps them (default 90)",
  MARGIN_USER_ID: "the user `mcp --stdio` serves (`margin user show --email` prints it)",
  MARGIN_TZ: "time zone for `mcp --stdio` (default the account's)",
  MARGIN_PASSWORD: "the password, when there is no terminal to ask at",
  LOG_LEVEL: "fatal, error, warn, info, debug, trace or silent (default warn on a terminal, info otherwise)",
  LOG_FORMAT: "json or pretty (default pretty on a terminal, json otherwise)",
  MODEL_PROVIDER:
    "openai, gemini, groq, openrouter, ollama, openai-compatible or offline (default openai with OPENAI_API_KEY, else offline)",
  MODEL: "the provider's model (each provider has a default; see the README)",
  OPENAI_API_KEY: "key for MODEL_PROVIDER=openai",
  GEMINI_API_KEY: "key for MODEL_PROVIDER=gemini",
  GROQ_API_KEY: "key for MODEL_PROVIDER=groq",
  OPENROUTER_API_KEY: "key for MODEL_PROVIDER=openrouter",
  OLLAMA_BASE_URL: "Ollama's OpenAI-compatible URL (default http://127.0.0.1:11434/v1)",
  OPENAI_COMPATIBLE_BASE_URL: "Chat Completions base URL for MODEL_PROVIDER=openai-compatible",
  OPENAI_COMPATIBLE_API_KEY: "its key, if it needs one",
  AGENT_TRACING: "1 sends Agents SDK traces to OpenAI (default off)",
  AGENT_MCP_STDIO:
    "the chat takes its tools from a stdio MCP server: margin (this one's `mcp --stdio`) or a command; one account only (MARGIN_USER_ID), other users' chats are refused",
} as const;

export type EnvName = keyof typeof ENV_HELP;

/** The variables, aligned, one per line; secrets say when they are required. */
export function describeEnv(names: readonly EnvName[], secrets: readonly string[]): string {
  const width = Math.max(...names.map((n) => n.length));
  return names
    .map((name) => {
      const note = secrets.includes(name)
        ? "; required with DATABASE_URL, otherwise generated and kept in DATA_DIR"
        : "";
      return `  ${name.padEnd(width)}  ${ENV_HELP[name]}${note}`;
    })
    .join("\n");
}
