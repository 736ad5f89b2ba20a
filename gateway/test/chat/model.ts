import type { AgentInputItem, Model, ModelRequest, ModelResponse, StreamEvent } from "@openai/agents";
import {
  assistantMessage,
  functionCall,
  modelStreamResponder,
  ScriptedModel,
  type ScriptedModelInput,
} from "@openai/agents/testing";

/** One model call as the agent made it, in call order. */
export type ModelCall = { index: number; request: ModelRequest };

/**
 * The SDK's `ScriptedModel`, one step per call, with the step chosen from the request. `ScriptedModel` alone is
 * a queue, so concurrent runs of different users would take each other's steps; this answers each call from
 * what that call asked (its own history), which keeps concurrent turns and benchmark loops deterministic.
 */
export class RespondingModel implements Model {
  readonly calls: ModelCall[] = [];
  respond: (request: ModelRequest, index: number) => ScriptedModelInput;

  constructor(respond: (request: ModelRequest, index: number) => ScriptedModelInput) {
    this.respond = respond;
  }

  #step(request: ModelRequest): ScriptedModel {
    const index = this.calls.length;
    this.calls.push({ index, request });
    return new ScriptedModel([this.respond(request, index)]);
  }

  getResponse(request: ModelRequest): Promise<ModelResponse> {
    return this.#step(request).getResponse(request);
  }

  getStreamedResponse(request: ModelRequest): AsyncIterable<StreamEvent> {
    return this.#step(request).getStreamedResponse(request);
  }
}

const inputItems = (request: ModelRequest): AgentInputItem[] =>
  typeof request.input === "string" ? [{ role: "user", content: request.input }] : request.input;

/** The tool results this call can see since the last user message: the current turn's tool outputs. */
export function toolResultsThisTurn(request: ModelRequest): string[] {
  const items = inputItems(request);
  const lastUser = items.findLastIndex((i) => "role" in i && i.role === "user");
  return items.slice(lastUser + 1).flatMap((i) => {
    if (i.type !== "function_call_result") return [];
    const output = i.output;
    if (typeof output === "string") return [output];
    return [JSON.stringify(output)];
  });
}

/** Everything the model read for this call, as text: instructions, history, page block, tool outputs. */
export function readText(request: ModelRequest): string {
  return `${request.systemInstructions ?? ""}\n${JSON.stringify(inputItems(request))}`;
}

/** The text of the newest user message of a call. */
export function lastUserText(request: ModelRequest): string {
  const items = inputItems(request);
  const last = items.findLast((i) => "role" in i && i.role === "user");
  if (!last || !("content" in last)) return "";
  const content = last.content;
  if (typeof content === "string") return content;
  return content.map((part) => ("text" in part ? part.text : "")).join("");
}

let callIds = 0;

/** A model that calls one tool, then answers `text` once it has the result: the usual one-tool turn. */
export function oneToolCall(tool: string, args: Record<string, unknown>, text: string) {
  return (request: ModelRequest): ScriptedModelInput =>
    toolResultsThisTurn(request).length > 0
      ? [assistantMessage(text)]
      : [functionCall(tool, args, { callId: `call_${++callIds}` })];
}

/** A streamed answer that sends `text`, then waits until the run is aborted: a model still talking. */
export function stallAfter(text: string, started: () => void): ScriptedModelInput {
  return modelStreamResponder(async function* (call): AsyncGenerator<StreamEvent> {
    yield { type: "response_started" };
    yield { type: "output_text_delta", delta: text };
    started();
    const signal = call.request.signal;
    if (!signal)
      throw new Error("the agent gave the model no abort signal: a client disconnect could not stop it");
    // Like a real provider's socket: nothing more comes until the run's abort signal ends the request.
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener("abort", () => resolve(), { once: true });
    });
    throw signal.reason;
  });
}
