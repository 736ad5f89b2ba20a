import type { Model, ModelRequest, ModelResponse, StreamEvent } from "@openai/agents";
import { assistantMessage, functionCall } from "@openai/agents/testing";
import { toolResultsThisTurn } from "../test/chat/model.ts";

/**
 * The benchmark's zero-latency model: one tool call, then `text` once the turn has the tool's result. The SDK's
 * `ScriptedModel` deep-copies and freezes every request twice to record it for assertions, about a millisecond
 * per call here; a benchmark asserts nothing about the calls, so that copy would be measured as Margin's work.
 */
export class InstantToolModel implements Model {
  #calls = 0;
  readonly #tool: string;
  readonly #args: Record<string, unknown>;
  readonly #text: string;

  constructor(tool: string, args: Record<string, unknown>, text: string) {
    this.#tool = tool;
    this.#args = args;
    this.#text = text;
  }

  #output(request: ModelRequest): ModelResponse["output"] {
    return toolResultsThisTurn(request).length > 0
      ? [assistantMessage(this.#text)]
      : [functionCall(this.#tool, this.#args, { callId: `call_${++this.#calls}` })];
  }

  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    return { output: this.#output(request), usage: emptyUsage() } as unknown as ModelResponse;
  }

  async *getStreamedResponse(request: ModelRequest): AsyncIterable<StreamEvent> {
    const output = this.#output(request);
    yield { type: "response_started" };
    for (const item of output) {
      if (item.type === "message" && item.role === "assistant")
        for (const part of item.content)
          if (part.type === "output_text") yield { type: "output_text_delta", delta: part.text };
    }
    const done = {
      type: "response_done",
      response: { id: `resp_${this.#calls}`, usage: emptyUsage(), output },
    };
    // The stream event types the protocol's own item shapes, which these helpers' items are at run time.
    yield done as unknown as StreamEvent;
  }
}

const emptyUsage = () => ({ requests: 1, inputTokens: 0, outputTokens: 0, totalTokens: 0 });
