export { type ChatAgentOptions, createChatAgent } from "./chat-agent.ts";
export type { AgentEvent, ChatAgent, PageContext, TurnInput } from "./contract.ts";
export { describeModel, MODEL_ENV, type ModelConfig, PROVIDERS, readModelConfig } from "./model-config.ts";
export { type ModelSource, modelSource } from "./providers.ts";
