// AGENT_TRACING=1 turns the Agents SDK's tracing on for chat turns, and it stays off otherwise. A recording
// processor stands in for the SDK's exporter (which would send the traces to OpenAI).
import { setTraceProcessors, setTracingDisabled, type TracingProcessor } from "@openai/agents";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readModelConfig } from "../../src/agent/model-config.ts";
import { createOfflineModel } from "../../src/agent/offline/index.ts";
import { modelSource } from "../../src/agent/providers.ts";
import { newUser, taskWorldForFile, turn } from "./support.ts";

const { database, world } = taskWorldForFile();
const traces: string[] = [];

const recorder: TracingProcessor = {
  onTraceStart: async (trace) => void traces.push(trace.name),
  onTraceEnd: async () => {},
  onSpanStart: async () => {},
  onSpanEnd: async () => {},
  shutdown: async () => {},
  forceFlush: async () => {},
};

beforeAll(async () => {
  // The SDK turns tracing off globally under NODE_ENV=test; the gateway's per-run setting is what is tested.
  setTraceProcessors([recorder]);
  setTracingDisabled(false);
});
afterAll(async () => {
  setTracingDisabled(true);
});

describe("AGENT_TRACING", () => {
  it.each([
    [{}, 0],
    [{ AGENT_TRACING: "0" }, 0],
    [{ AGENT_TRACING: "1" }, 1],
  ])("%j → %i trace(s) for a turn", async (env, expected) => {
    const agent = world.agent(modelSource(readModelConfig(env), createOfflineModel));
    traces.length = 0;
    await turn(agent, await newUser(database), "add water the plants");
    expect(traces).toHaveLength(expected);
  });
});
