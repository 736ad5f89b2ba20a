import {
  type Model,
  type ModelSettings,
  OpenAIChatCompletionsModel,
  OpenAIResponsesModel,
} from "@openai/agents";
import OpenAI from "openai";
import type { PageContext } from "./contract.ts";
import { KeepThoughtSignatures } from "./gemini.ts";
import type { ModelConfig } from "./model-config.ts";

/** What a turn's model needs to know that only the turn has (the offline model reads the page and the zone). */
export type TurnModelContext = { timezone: string; now: Date; page?: PageContext; locale?: string };

/** The model each turn runs with, and the settings it takes. */
export type ModelSource = {
  provider: string;
  model: string;
  modelFor(ctx: TurnModelContext): Model;
  settings: ModelSettings;
  /** Agents SDK tracing (traces go to OpenAI): on only with AGENT_TRACING=1. */
  tracing?: boolean;
};

/** Provider 429s and 5xx are retried by the OpenAI client with backoff and jitter, honouring Retry-After. */
const MAX_RETRIES = 3;
const REQUEST_TIMEOUT_MS = 60_000;

/**
 * The SDK model for a configured provider. OpenAI goes through its Responses API; every other provider
 * through Chat Completions at its base URL. The offline model is made per turn by `offlineModel`.
 */
export function modelSource(
  config: ModelConfig,
  offlineModel: (ctx: TurnModelContext) => Model,
): ModelSource {
  if (config.provider === "offline") {
    return {
      provider: "offline",
      model: config.model,
      modelFor: offlineModel,
      settings: {},
      tracing: config.tracing,
    };
  }
  const client = new OpenAI({
    apiKey: config.apiKey,
    baseURL: config.baseUrl,
    maxRetries: MAX_RETRIES,
    timeout: REQUEST_TIMEOUT_MS,
  });
  if (config.provider === "openai") {
    const model = new OpenAIResponsesModel(client, config.model);
    return {
      provider: "openai",
      model: config.model,
      modelFor: () => model,
      settings: { parallelToolCalls: false },
      tracing: config.tracing,
    };
  }
  // Compatible endpoints differ in what they accept: parallel_tool_calls is left out (several reject it), and
  // the tools' JSON schemas carry no `$schema` (Gemini rejects it; see tools.ts). Gemini also wants its tool
  // calls' thought signatures back on the next request of the turn (gemini.ts).
  const chat = new OpenAIChatCompletionsModel(client, config.model);
  const model = config.provider === "gemini" ? new KeepThoughtSignatures(chat) : chat;
  return {
    provider: config.provider,
    model: config.model,
    modelFor: () => model,
    settings: {},
    tracing: config.tracing,
  };
}
