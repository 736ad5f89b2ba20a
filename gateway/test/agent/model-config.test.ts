import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { MODEL_ENV, PROVIDERS, type ProviderName, readModelConfig } from "../../src/agent/model-config.ts";
import { ConfigError } from "../../src/config.ts";
import { describeEnv } from "../../src/env-help.ts";

// Which model the gateway talks to is decided once at start-up from the environment: these pin the choices a
// newcomer relies on (no key → offline) and the messages an operator reads when a variable is missing.

const keyed = ["openai", "gemini", "groq", "openrouter"] as const;
const PG = "postgres://margin@db.example/margin";

function configError(env: Record<string, string>): ConfigError {
  try {
    readModelConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`readModelConfig(${JSON.stringify(env)}) did not throw`);
}

describe("readModelConfig", () => {
  it("is offline when no provider and no key is set, blank values counting as unset", () => {
    expect(readModelConfig({})).toEqual({ provider: "offline", model: "margin-offline", tracing: false });
    expect(readModelConfig({ MODEL_PROVIDER: " ", OPENAI_API_KEY: "" }).provider).toBe("offline");
  });

  it("chooses OpenAI when OPENAI_API_KEY is set, with its default model and no base URL", () => {
    expect(readModelConfig({ OPENAI_API_KEY: "sk-test" })).toEqual({
      provider: "openai",
      model: "gpt-4.1-mini",
      apiKey: "sk-test",
      baseUrl: undefined,
      tracing: false,
    });
  });

  it("keeps the offline model when another provider's key is set without MODEL_PROVIDER", () => {
    expect(readModelConfig({ GEMINI_API_KEY: "g-key" }).provider).toBe("offline");
  });

  it.each(keyed)("%s: its key, base URL and default model; MODEL overrides the model", (provider) => {
    const keyVar = PROVIDERS[provider].keyVar;
    const env = { MODEL_PROVIDER: provider, [keyVar]: `${provider}-key` };
    const config = readModelConfig(env);
    expect(config).toMatchObject({
      provider,
      model: PROVIDERS[provider].model,
      apiKey: `${provider}-key`,
      baseUrl: PROVIDERS[provider].baseUrl,
    });
    expect(readModelConfig({ ...env, MODEL: "custom-model-1" }).model).toBe("custom-model-1");
  });

  it("pins each provider's default model", () => {
    const defaults = Object.fromEntries(
      (Object.keys(PROVIDERS) as ProviderName[]).map((p) => [p, PROVIDERS[p].model]),
    );
    expect(defaults).toEqual({
      openai: "gpt-4.1-mini",
      gemini: "gemini-2.5-flash",
      groq: "llama-3.3-70b-versatile",
      openrouter: "openai/gpt-4.1-mini",
      ollama: "llama3.1",
      "openai-compatible": "gpt-4.1-mini",
      offline: "margin-offline",
    });
  });

  it.each(keyed)("%s without its key stops start-up naming the variable", (provider) => {
    const keyVar = PROVIDERS[provider].keyVar;
    const err = configError({ MODEL_PROVIDER: provider });
    expect(err.message).toContain(keyVar);
    expect(err.message).toContain(`MODEL_PROVIDER=${provider}`);
  });

  it("names GEMINI_API_KEY, not another provider's key, for gemini", () => {
    const err = configError({ MODEL_PROVIDER: "gemini", OPENAI_API_KEY: "sk-test" });
    expect(err.message).toMatch(/GEMINI_API_KEY: required/);
    expect(err.message).not.toContain("OPENAI_API_KEY");
  });

  it("openai-compatible needs OPENAI_COMPATIBLE_BASE_URL; the key is optional", () => {
    const err = configError({ MODEL_PROVIDER: "openai-compatible", OPENAI_COMPATIBLE_API_KEY: "k" });
    expect(err.message).toContain("OPENAI_COMPATIBLE_BASE_URL");
    expect(
      readModelConfig({
        MODEL_PROVIDER: "openai-compatible",
        OPENAI_COMPATIBLE_BASE_URL: "http://127.0.0.1:1234/v1",
      }),
    ).toMatchObject({ baseUrl: "http://127.0.0.1:1234/v1", apiKey: "none", model: "gpt-4.1-mini" });
  });

  it("ollama needs no key and takes OLLAMA_BASE_URL", () => {
    expect(readModelConfig({ MODEL_PROVIDER: "ollama" })).toMatchObject({
      baseUrl: "http://127.0.0.1:11434/v1",
      model: "llama3.1",
    });
    expect(
      readModelConfig({ MODEL_PROVIDER: "ollama", OLLAMA_BASE_URL: "http://gpu-box:11434/v1" }).baseUrl,
    ).toBe("http://gpu-box:11434/v1");
  });

  it("rejects an unknown provider and a malformed base URL, naming the variable", () => {
    expect(configError({ MODEL_PROVIDER: "claude" }).message).toContain("MODEL_PROVIDER");
    expect(
      configError({ MODEL_PROVIDER: "openai-compatible", OPENAI_COMPATIBLE_BASE_URL: "not a url" }).message,
    ).toContain("OPENAI_COMPATIBLE_BASE_URL");
  });

  describe("AGENT_MCP_STDIO", () => {
    it("is unset by default: the tools come from the gateway's MCP client", () => {
      expect(readModelConfig({}).mcpStdio).toBeUndefined();
    });

    it("'margin' runs this repository's `margin mcp --stdio` with this Node, for MARGIN_USER_ID", () => {
      const { mcpStdio } = readModelConfig({
        AGENT_MCP_STDIO: "margin",
        MARGIN_USER_ID: "u1",
        DATABASE_URL: PG,
      });
      expect(mcpStdio).toMatchObject({
        command: process.execPath,
        args: [expect.any(String), "mcp", "--stdio"],
      });
      expect(mcpStdio?.userId).toBe("u1");
      expect(existsSync(mcpStdio!.args[0]!)).toBe(true);
    });

    it("takes a command line or a JSON array (for arguments with spaces)", () => {
      expect(
        readModelConfig({ AGENT_MCP_STDIO: " npx  my-mcp --stdio ", MARGIN_USER_ID: "u1" }).mcpStdio,
      ).toEqual({ command: "npx", args: ["my-mcp", "--stdio"], userId: "u1" });
      expect(
        readModelConfig({ AGENT_MCP_STDIO: '["node", "/opt/my server/mcp.js"]', MARGIN_USER_ID: "u1" })
          .mcpStdio,
      ).toEqual({ command: "node", args: ["/opt/my server/mcp.js"], userId: "u1" });
    });

    it("stops start-up without MARGIN_USER_ID, or with a malformed JSON command, naming the variable", () => {
      expect(configError({ AGENT_MCP_STDIO: "margin" }).message).toMatch(
        /MARGIN_USER_ID: required with AGENT_MCP_STDIO/,
      );
      expect(configError({ AGENT_MCP_STDIO: "[1, 2]", MARGIN_USER_ID: "u1" }).message).toContain(
        "AGENT_MCP_STDIO",
      );
      expect(configError({ AGENT_MCP_STDIO: '["node"', MARGIN_USER_ID: "u1" }).message).toContain(
        "AGENT_MCP_STDIO",
      );
    });

    it("refuses 'margin' on the embedded database, which the gateway itself holds", () => {
      expect(configError({ AGENT_MCP_STDIO: "margin", MARGIN_USER_ID: "u1" }).message).toMatch(
        /AGENT_MCP_STDIO: `margin` needs a Postgres DATABASE_URL/,
      );
    });

    it("is listed in the help of the commands that read the model's variables", () => {
      expect(describeEnv(MODEL_ENV, [])).toMatch(
        /^ {2}AGENT_MCP_STDIO +the chat takes its tools from a stdio MCP server/m,
      );
      expect(describeEnv(MODEL_ENV, [])).toMatch(/^ {2}MARGIN_USER_ID /m);
    });
  });

  it("turns tracing on only with AGENT_TRACING=1", () => {
    expect(readModelConfig({ OPENAI_API_KEY: "sk" }).tracing).toBe(false);
    expect(readModelConfig({ OPENAI_API_KEY: "sk", AGENT_TRACING: "1" }).tracing).toBe(true);
    expect(readModelConfig({ AGENT_TRACING: "0" }).tracing).toBe(false);
  });
});
