import type { Model, ModelRequest, ModelResponse, StreamEvent } from "@openai/agents";
import { z } from "zod";

// The part of a Chat Completions stream chunk read here: each tool call's index, id and Gemini's extra content.
const Chunk = z.looseObject({
  choices: z
    .array(
      z.looseObject({
        delta: z
          .looseObject({
            tool_calls: z
              .array(
                z.looseObject({
                  index: z.number().int().optional(),
                  id: z.string().optional(),
                  extra_content: z.record(z.string(), z.unknown()).optional(),
                }),
              )
              .nullish(),
          })
          .nullish(),
      }),
    )
    .nullish(),
});

/**
 * Gemini's OpenAI-compatible endpoint signs the tool calls of its thinking models
 * (`tool_calls[].extra_content.google.thought_signature`) and refuses the next request of the turn with
 * 400 "Function call is missing a thought_signature" unless each call comes back with its signature. The Agents
 * SDK keeps a call's extra fields as its `providerData` and sends them back with it, but only for non-streamed
 * answers: its stream reader drops them. This model reads them from the raw stream chunks (which the SDK passes
 * on as `model` events) and adds them to the finished calls, so tool turns keep streaming.
 */
export class KeepThoughtSignatures implements Model {
  readonly #inner: Model;

  constructor(inner: Model) {
    this.#inner = inner;
  }

  getResponse(request: ModelRequest): Promise<ModelResponse> {
    return this.#inner.getResponse(request);
  }

  async *getStreamedResponse(request: ModelRequest): AsyncIterable<StreamEvent> {
    const ids = new Map<number, string>();
    const extras = new Map<number, Record<string, unknown>>();
    for await (const event of this.#inner.getStreamedResponse(request)) {
      if (event.type === "model") {
        const chunk = Chunk.safeParse(event.event);
        const calls = chunk.success ? (chunk.data.choices?.[0]?.delta?.tool_calls ?? []) : [];
        for (const [position, call] of calls.entries()) {
          // A delta without `index` (some compatible servers) counts by position.
          const index = call.index ?? position;
          if (call.id) ids.set(index, call.id);
          if (call.extra_content) extras.set(index, call.extra_content);
        }
      } else if (event.type === "response_done" && extras.size > 0) {
        const byCallId = new Map([...extras].map(([index, extra]) => [ids.get(index), extra]));
        for (const item of event.response.output) {
          const extra = item.type === "function_call" ? byCallId.get(item.callId) : undefined;
          if (extra) item.providerData = { ...item.providerData, extra_content: extra };
        }
      }
      yield event;
    }
  }
}
