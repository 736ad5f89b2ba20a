// The real provider code (the `openai` client and the SDK's model classes, as modelSource builds them) against a
// local fake OpenAI-compatible server, with the real MCP server and database behind the agent's tools.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AgentTurnError } from "../../src/agent/contract.ts";
import { type ModelConfig, readModelConfig } from "../../src/agent/model-config.ts";
import { createOfflineModel } from "../../src/agent/offline/index.ts";
import { modelSource } from "../../src/agent/providers.ts";
import { type ChatBody, type FakeOpenAI, type FakeReply, startFakeOpenAI } from "../support/fake-openai.ts";
import { failedTurn, newUser, ofType, taskWorldForFile, titlesOf, turn } from "./support.ts";

const { database, world } = taskWorldForFile();
let fake: FakeOpenAI;

beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake?.close();
});
beforeEach(() => {
  fake.requests.length = 0;
  fake.failNext(0, 500);
});

/** The agent for a provider's configuration from the environment, pointed at the fake server. */
const agentFor = (env: Record<string, string>, pointAtFake = true) => {
  const config: ModelConfig = readModelConfig(env);
  return world.agent(
    modelSource(pointAtFake ? { ...config, baseUrl: fake.baseUrl } : config, createOfflineModel),
  );
};

const compatible = () =>
  agentFor({ MODEL_PROVIDER: "openai-compatible", OPENAI_COMPATIBLE_BASE_URL: fake.baseUrl }, false);

describe("providers through the fake server", () => {
  it("retries a 429 after its Retry-After and the turn succeeds", async () => {
    const agent = compatible();
    const user = await newUser(database);
    fake.failNext(1, 429, 1);
    fake.enqueue({ text: "Hello there." });
    const started = performance.now();
    const { text } = await turn(agent, user, "hi");
    expect(text).toBe("Hello there.");
    expect(fake.requests).toHaveLength(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
  });

  it("gives up after the client's retries with a retryable 'busy' error", async () => {
    const agent = compatible();
    const user = await newUser(database);
    fake.failNext(4, 429, 0);
    const err = await failedTurn(agent, user, "hi");
    expect(err).toBeInstanceOf(AgentTurnError);
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/busy/);
    expect(fake.requests).toHaveLength(4);
  });

  it("gemini: tool schemas without $schema and no parallel_tool_calls; the task is added", async () => {
    const agent = agentFor({ MODEL_PROVIDER: "gemini", GEMINI_API_KEY: "g-key" });
    const user = await newUser(database);
    fake.enqueue(
      { toolCalls: [{ name: "add_task", arguments: { title: "Gemini task" } }] },
      { text: "Added." },
    );
    const { events, text } = await turn(agent, user, "add Gemini task");
    expect(text).toBe("Added.");
    expect(ofType(events, "tool.finished")).toMatchObject([{ tool: "add_task", ok: true, wrote: true }]);
    expect((await titlesOf(database, user.id)).kept).toEqual(["Gemini task"]);

    expect(fake.requests).toHaveLength(2);
    for (const request of fake.requests) {
      expect(request.api).toBe("chat.completions");
      expect(request.body.model).toBe("gemini-2.5-flash");
      expect(request.headers.authorization).toBe("Bearer g-key");
      expect(request.tools).toContain("add_task");
      expect(JSON.stringify(request.body.tools)).not.toContain("$schema");
      expect(request.body).not.toHaveProperty("parallel_tool_calls");
    }
  });

  describe("gemini thought signatures", () => {
    const MISSING =
      "Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly.";

    /**
     * Answers as Gemini's thinking models do: each tool call is signed, and a request that sends a call back
     * without the signature it was given is refused with 400. Each turn adds a task, then lists, then answers.
     */
    function signingGemini() {
      const issued = new Map<string, string>();
      let calls = 0;
      const signed = (name: string, args: Record<string, unknown>) => {
        const id = `call_sig${++calls}`;
        issued.set(id, `sig-${calls}`);
        return { name, arguments: args, id, thoughtSignature: `sig-${calls}` };
      };
      fake.respondWith((request): FakeReply => {
        for (const message of (request.body as ChatBody).messages) {
          for (const call of message.tool_calls ?? []) {
            const sent = (
              call as { id?: string; extra_content?: { google?: { thought_signature?: string } } }
            ).extra_content?.google?.thought_signature;
            if (sent !== issued.get((call as { id?: string }).id ?? ""))
              return { status: 400, message: MISSING };
          }
        }
        const lines = request.transcript;
        const lastUser = lines.findLastIndex((l) => l.startsWith("user: "));
        const results = lines.slice(lastUser + 1).filter((l) => l.startsWith("tool: ")).length;
        const title = lines[lastUser]!.slice("user: add ".length);
        if (results === 0) return { toolCalls: [signed("add_task", { title })] };
        if (results === 1) return { toolCalls: [signed("list_tasks", {})] };
        return { text: `Added ${title}.` };
      });
      return issued;
    }

    afterEach(() => {
      fake.respondWith(() => ({ status: 500, message: "fake-openai: no reply scripted for this request" }));
    });

    it("sends each tool call back with its signature through a two-step turn and a follow-up turn", async () => {
      const agent = agentFor({ MODEL_PROVIDER: "gemini", GEMINI_API_KEY: "g-key" });
      const user = await newUser(database);
      signingGemini();

      const first = await turn(agent, user, "add Signed errand");
      expect(first.text).toBe("Added Signed errand.");
      expect(fake.requests.map((r) => r.stream)).toEqual([true, true, true]);
      // The third request carries both calls of the turn, each with the signature it came with.
      const sentBack = (fake.requests[2]!.body as ChatBody).messages.flatMap((m) => m.tool_calls ?? []);
      expect(sentBack).toMatchObject([
        { function: { name: "add_task" }, extra_content: { google: { thought_signature: "sig-1" } } },
        { function: { name: "list_tasks" }, extra_content: { google: { thought_signature: "sig-2" } } },
      ]);

      // The next turn, with the first one as history (as the ChatKit server builds it: its messages).
      const history = [
        { role: "user" as const, content: "add Signed errand" },
        {
          role: "assistant" as const,
          status: "completed" as const,
          content: [{ type: "output_text" as const, text: first.text }],
        },
      ];
      const second = await turn(agent, user, "add Second errand", { history });
      expect(second.text).toBe("Added Second errand.");
      // Three more requests, none refused: the turn's own calls went back signed.
      expect(fake.requests).toHaveLength(6);
      expect((await titlesOf(database, user.id)).kept).toEqual(["Second errand", "Signed errand"]);
    });

    it("is needed: without it the same endpoint refuses the turn's second request", async () => {
      const agent = compatible();
      const user = await newUser(database);
      signingGemini();
      const err = await failedTurn(agent, user, "add Unsigned errand");
      expect(err.message).toBe("The model provider refused the request.");
      expect(fake.requests).toHaveLength(2);
    });
  });

  it("openai: the Responses API adds a task, one tool call at a time", async () => {
    const agent = agentFor({ OPENAI_API_KEY: "sk-test" });
    const user = await newUser(database);
    fake.enqueue(
      { toolCalls: [{ name: "add_task", arguments: { title: "Via responses" } }] },
      { text: "Done." },
    );
    const { text } = await turn(agent, user, "add Via responses");
    expect(text).toBe("Done.");
    expect((await titlesOf(database, user.id)).kept).toEqual(["Via responses"]);
    expect(fake.requests.map((r) => r.api)).toEqual(["responses", "responses"]);
    expect(fake.requests[0]!.body).toMatchObject({ model: "gpt-4.1-mini", parallel_tool_calls: false });
  });

  it("serves 10 concurrent users through one provider client, each touching only their own tasks", async () => {
    const agent = compatible();
    const people = await Promise.all(Array.from({ length: 10 }, () => newUser(database)));
    // Each request is answered from its own transcript: add the task its user named, list, then answer.
    fake.respondWith((request) => {
      const lines = request.transcript;
      const lastUser = lines.findLastIndex((l) => l.startsWith("user: "));
      const title = lines[lastUser]!.slice("user: add ".length);
      const results = lines.slice(lastUser + 1).filter((l) => l.startsWith("tool: ")).length;
      if (results === 0) return { toolCalls: [{ name: "add_task", arguments: { title } }] };
      if (results === 1) return { toolCalls: [{ name: "list_tasks", arguments: {} }] };
      return { text: "Done." };
    });
    try {
      const results = await Promise.all(people.map((user, i) => turn(agent, user, `add Errand ${i}`)));
      for (const [i, user] of people.entries()) {
        const listed = ofType(results[i]!.events, "tool.finished").find((e) => e.tool === "list_tasks");
        const shown = ((listed?.structured?.tasks ?? []) as { title: string }[]).map((t) => t.title);
        expect(shown, `what user ${i} was shown`).toEqual([`Errand ${i}`]);
        expect((await titlesOf(database, user.id)).kept, `user ${i}'s tasks`).toEqual([`Errand ${i}`]);
      }
      expect(fake.requests).toHaveLength(30);
    } finally {
      fake.respondWith(() => ({ status: 500, message: "fake-openai: no reply scripted for this request" }));
    }
  });

  it("sends the model no user id: not in instructions, history, tool results or headers", async () => {
    const agent = compatible();
    const user = await newUser(database);
    fake.enqueue(
      { toolCalls: [{ name: "add_task", arguments: { title: "Private errand", due: "tomorrow" } }] },
      { toolCalls: [{ name: "list_tasks", arguments: {} }] },
      { text: "Listed." },
    );
    await turn(agent, user, "add Private errand and show my list", {
      page: { url: "https://example.com/", title: "Example", excerpt: "Some page text" },
    });
    expect(fake.requests).toHaveLength(3);
    const wire = JSON.stringify(fake.requests.map((r) => ({ headers: r.headers, body: r.body })));
    expect(wire).toContain("Private errand");
    expect(wire).toContain("Europe/Berlin");
    expect(wire).not.toContain(user.id);
  });
});
