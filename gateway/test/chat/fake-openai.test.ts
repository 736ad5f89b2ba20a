import {
  Agent,
  type Model,
  OpenAIChatCompletionsModel,
  OpenAIResponsesModel,
  Runner,
  tool,
} from "@openai/agents";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { type FakeOpenAI, startFakeOpenAI } from "../support/fake-openai.ts";

// The fake must speak what the real client and the Agents SDK's model classes understand, or the end-to-end
// tests built on it would test the fake. These runs go through the SDK's own Chat Completions and Responses code.

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(() => fake?.close());
beforeEach(() => {
  fake.requests.length = 0;
});

const client = (maxRetries = 0) => new OpenAI({ apiKey: "sk-fake", baseURL: fake.baseUrl, maxRetries });
const runner = new Runner({ tracingDisabled: true });

function agentWith(model: Model, added: string[]) {
  return new Agent({
    name: "fake-check",
    instructions: "Manage tasks.",
    model,
    tools: [
      tool({
        name: "add_task",
        description: "Add a task",
        parameters: z.object({ title: z.string() }),
        execute: ({ title }) => {
          added.push(title);
          return `Added ${title}`;
        },
      }),
    ],
  });
}

const models = {
  "chat completions": () => new OpenAIChatCompletionsModel(client(), "fake-model"),
  responses: () => new OpenAIResponsesModel(client(), "fake-model"),
};

describe.each(Object.entries(models))("%s", (api, makeModel) => {
  it.each([true, false])("runs a tool call then answers (stream: %s)", async (stream) => {
    const added: string[] = [];
    fake.enqueue(
      { toolCalls: [{ name: "add_task", arguments: { title: "Buy milk" } }] },
      { text: "Added Buy milk for you." },
    );
    const agent = agentWith(makeModel(), added);
    let deltas = "";
    let output: unknown;
    if (stream) {
      const result = await runner.run(agent, "add buy milk", { stream: true });
      for await (const event of result)
        if (event.type === "raw_model_stream_event" && event.data.type === "output_text_delta")
          deltas += event.data.delta;
      await result.completed;
      output = result.finalOutput;
    } else {
      output = (await runner.run(agent, "add buy milk")).finalOutput;
    }
    expect(added).toEqual(["Buy milk"]);
    expect(output).toBe("Added Buy milk for you.");
    if (stream) expect(deltas).toBe("Added Buy milk for you.");
    expect(fake.requests.map((r) => [r.api, r.stream])).toEqual([
      [api === "responses" ? "responses" : "chat.completions", stream],
      [api === "responses" ? "responses" : "chat.completions", stream],
    ]);
    expect(fake.requests[0]!.tools).toEqual(["add_task"]);
    expect(fake.requests[0]!.transcript).toEqual(["system: Manage tasks.", "user: add buy milk"]);
    expect(fake.requests[1]!.transcript.at(-1)).toMatch(/^tool: Added Buy milk/);
  });
});

describe("failures and stalls", () => {
  it("answers 429 with Retry-After for the first calls, and the client's retry gets through", async () => {
    fake.failNext(2, 429, 0);
    fake.enqueue({ text: "fine" });
    const answer = await client(2).chat.completions.create({
      model: "fake-model",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(answer.choices[0]!.message.content).toBe("fine");
    expect(fake.requests).toHaveLength(3);
  });

  it("holds a streamed answer open until the client goes away", async () => {
    fake.enqueue({ hang: true, text: "Here is the first part" });
    const abort = new AbortController();
    const stream = await client().chat.completions.create(
      { model: "fake-model", messages: [{ role: "user", content: "long story" }], stream: true },
      { signal: abort.signal },
    );
    let text = "";
    const reading = (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    })().catch(() => {});
    await fake.stalled();
    await expect.poll(() => text).toBe("Here is the first part");
    abort.abort();
    await fake.aborted();
    await reading;
    expect(text).toBe("Here is the first part");
    expect(fake.requests[0]!.aborted).toBe(true);
  });

  it("answers an unscripted request with an error naming the problem", async () => {
    await expect(
      client().chat.completions.create({ model: "m", messages: [{ role: "user", content: "?" }] }),
    ).rejects.toThrow(/no reply scripted/);
  });
});
