import { fileURLToPath } from "node:url";
import { z } from "zod";
import { ConfigError } from "../config.ts";

/** Where each provider lives, which variable holds its key, and the model used unless MODEL says otherwise. */
export const PROVIDERS = {
  openai: { keyVar: "OPENAI_API_KEY", model: "gpt-4.1-mini", baseUrl: undefined },
  gemini: {
    keyVar: "GEMINI_API_KEY",
    model: "gemini-2.5-flash",
    baseUrl: "https://generativelanguage.googleapis.com/v1beta/openai/",
  },
  groq: {
    keyVar: "GROQ_API_KEY",
    model: "llama-3.3-70b-versatile",
    baseUrl: "https://api.groq.com/openai/v1",
  },
  openrouter: {
    keyVar: "OPENROUTER_API_KEY",
    model: "openai/gpt-4.1-mini",
    baseUrl: "https://openrouter.ai/api/v1",
  },
  ollama: { keyVar: undefined, model: "llama3.1", baseUrl: "http://127.0.0.1:11434/v1" },
  "openai-compatible": { keyVar: "OPENAI_COMPATIBLE_API_KEY", model: "gpt-4.1-mini", baseUrl: undefined },
  offline: { keyVar: undefined, model: "margin-offline", baseUrl: undefined },
} as const;

export type ProviderName = keyof typeof PROVIDERS;

export type ModelConfig = {
  provider: ProviderName;
  model: string;
  apiKey?: string;
  /** Chat Completions endpoint of a compatible provider; undefined for OpenAI itself and offline. */
  baseUrl?: string;
  /** Agents SDK tracing (sends traces to OpenAI): only with AGENT_TRACING=1. */
  tracing: boolean;
  /** AGENT_MCP_STDIO: the agent's tools come from this stdio MCP server, which serves one account only. */
  mcpStdio?: McpStdioConfig;
};

/** A stdio MCP server (`margin mcp --stdio`) and the one account it serves (MARGIN_USER_ID). */
export type McpStdioConfig = { command: string; args: string[]; userId: string };

/** `AGENT_MCP_STDIO=margin`: this repository's own `margin mcp --stdio`, run with this Node. */
const MARGIN_BIN = fileURLToPath(new URL("../../bin/margin.js", import.meta.url));

/** The variables `readModelConfig` reads, for each command's help. */
export const MODEL_ENV = [
  "MODEL_PROVIDER",
  "MODEL",
  "OPENAI_API_KEY",
  "GEMINI_API_KEY",
  "GROQ_API_KEY",
  "OPENROUTER_API_KEY",
  "OLLAMA_BASE_URL",
  "OPENAI_COMPATIBLE_BASE_URL",
  "OPENAI_COMPATIBLE_API_KEY",
  "AGENT_TRACING",
  "AGENT_MCP_STDIO",
  "MARGIN_USER_ID",
] as const;

const blank = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);
const opt = <T extends z.ZodType>(schema: T) => z.preprocess(blank, schema.optional());

const ModelEnv = z.object({
  MODEL_PROVIDER: opt(z.enum(Object.keys(PROVIDERS) as [ProviderName, ...ProviderName[]])),
  MODEL: opt(z.string().trim().min(1).max(200)),
  OPENAI_API_KEY: opt(z.string()),
  GEMINI_API_KEY: opt(z.string()),
  GROQ_API_KEY: opt(z.string()),
  OPENROUTER_API_KEY: opt(z.string()),
  OLLAMA_BASE_URL: opt(z.url({ protocol: /^https?$/ })),
  OPENAI_COMPATIBLE_BASE_URL: opt(z.url({ protocol: /^https?$/ })),
  OPENAI_COMPATIBLE_API_KEY: opt(z.string()),
  AGENT_TRACING: opt(z.enum(["0", "1"])),
  AGENT_MCP_STDIO: opt(z.string().trim().min(1).max(4000)),
  MARGIN_USER_ID: opt(z.string().trim().min(1)),
});

const Argv = z.array(z.string().min(1)).min(1);

/** "margin", a JSON array (`["node","server.js"]`, for arguments with spaces) or a command line split at spaces. */
function stdioCommand(raw: string): { command: string; args: string[] } {
  if (raw === "margin") return { command: process.execPath, args: [MARGIN_BIN, "mcp", "--stdio"] };
  let argv: string[];
  try {
    argv = raw.startsWith("[") ? Argv.parse(JSON.parse(raw)) : raw.split(/\s+/);
  } catch {
    throw new ConfigError(
      'Invalid configuration:\n  AGENT_MCP_STDIO: must be "margin", a command line, or a JSON array of strings',
    );
  }
  const [command, ...args] = argv;
  return { command: command!, args };
}

/**
 * The chat model from the environment, validated once at start-up. With no MODEL_PROVIDER, OpenAI is used
 * when OPENAI_API_KEY is set and the offline command model otherwise. A provider without its key stops
 * start-up with a message naming the variable.
 */
export function readModelConfig(env: Record<string, string | undefined>): ModelConfig {
  const parsed = ModelEnv.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  if (e.AGENT_MCP_STDIO && !e.MARGIN_USER_ID) {
    throw new ConfigError(
      "Invalid configuration:\n  MARGIN_USER_ID: required with AGENT_MCP_STDIO (the one account a stdio MCP server serves; `margin user show --email …` prints it)",
    );
  }
  if (e.AGENT_MCP_STDIO === "margin" && !env.DATABASE_URL?.trim()) {
    throw new ConfigError(
      "Invalid configuration:\n  AGENT_MCP_STDIO: `margin` needs a Postgres DATABASE_URL (the embedded database has one margin process at a time, and the gateway is one)",
    );
  }
  const mcpStdio = e.AGENT_MCP_STDIO
    ? { mcpStdio: { ...stdioCommand(e.AGENT_MCP_STDIO), userId: e.MARGIN_USER_ID! } }
    : {};
  return { ...modelOf(e), ...mcpStdio };
}

function modelOf(e: z.infer<typeof ModelEnv>): ModelConfig {
  const provider: ProviderName = e.MODEL_PROVIDER ?? (e.OPENAI_API_KEY ? "openai" : "offline");
  const spec = PROVIDERS[provider];
  const tracing = e.AGENT_TRACING === "1";
  const model = e.MODEL ?? spec.model;
  if (provider === "offline") return { provider, model: spec.model, tracing };
  if (provider === "ollama")
    return { provider, model, baseUrl: e.OLLAMA_BASE_URL ?? spec.baseUrl, apiKey: "ollama", tracing };
  if (provider === "openai-compatible") {
    if (!e.OPENAI_COMPATIBLE_BASE_URL) {
      throw new ConfigError(
        "Invalid configuration:\n  OPENAI_COMPATIBLE_BASE_URL: required with MODEL_PROVIDER=openai-compatible (e.g. http://127.0.0.1:1234/v1)",
      );
    }
    // Local servers often take no key; the client still needs a value to send.
    return {
      provider,
      model,
      baseUrl: e.OPENAI_COMPATIBLE_BASE_URL,
      apiKey: e.OPENAI_COMPATIBLE_API_KEY ?? "none",
      tracing,
    };
  }
  const keyVar = PROVIDERS[provider].keyVar;
  const apiKey = e[keyVar];
  if (!apiKey) {
    throw new ConfigError(
      `Invalid configuration:\n  ${keyVar}: required with MODEL_PROVIDER=${provider} (or unset MODEL_PROVIDER to use the offline model)`,
    );
  }
  return { provider, model, apiKey, baseUrl: spec.baseUrl, tracing };
}

/** "openai · gpt-4.1-mini", or "offline (no model key set)", for the start summary and logs. */
export function describeModel(config: ModelConfig): string {
  return config.provider === "offline"
    ? "offline (no model key set)"
    : `${config.provider} · ${config.model}`;
}
