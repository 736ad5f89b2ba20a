import type { ModelRequest } from "@openai/agents";
import { assistantMessage, functionCall, type ScriptedModelInput } from "@openai/agents/testing";
import { type ChatAgentOptions, createChatAgent } from "../../src/agent/chat-agent.ts";
import { createOfflineModel } from "../../src/agent/offline/index.ts";
import { modelSource } from "../../src/agent/providers.ts";
import { createChatStore } from "../../src/chatkit/store.ts";
import { createTaskServiceClient } from "../../src/task-service/client.ts";
import { type ChatResponse, postChatKit } from "../chatkit/support.ts";
import { signUp } from "../support/auth.ts";
import type { TestDatabase } from "../support/database.ts";
import {
  type FakeOpenAI,
  type FakeReply,
  type RecordedRequest,
  startFakeOpenAI,
} from "../support/fake-openai.ts";
import { type GatewayHarness, startGatewayHarness } from "../support/gateway.ts";
import { type McpHttpHarness, silentLogger, startMcpHttpHarness, TEST_SECRET } from "../support/mcp.ts";
import { lastUserText, RespondingModel, readText, stallAfter, toolResultsThisTurn } from "./model.ts";

/** What the model does next, whichever way it is driven. */
export type Move =
  | { say: string }
  | { call: string; args: Record<string, unknown> }
  /** Streams `say`, then stalls until the run is aborted. */
  | { stall: string };

/** What a model call could see, the same for the SDK-level model and the fake provider. */
export type Seen = {
  /** Everything the model read (instructions, history, page block, tool outputs) as one text. */
  read: string;
  /** The newest user message. */
  lastUser: string;
  /** Tool outputs since that message, oldest first. */
  toolResults: string[];
};

/**
 * A model for the real agent, driven by a script of moves, in one of two ways: the SDK's `ScriptedModel`
 * (injected into the agent) or a fake OpenAI-compatible server behind the real provider code.
 */
export type AgentModels = ChatAgentOptions["models"];

/** The offline command model, as MODEL_PROVIDER=offline configures it. */
export const offlineModels: AgentModels = modelSource(
  { provider: "offline", model: "margin-offline", tracing: false },
  createOfflineModel,
);

export type ModelDriver = {
  kind: "scripted" | "openai-compatible";
  /** Every model call so far, as seen. */
  seen: Seen[];
  script(next: (seen: Seen) => Move): void;
  /** Resolves when a `stall` move has streamed its text. */
  stalled(): Promise<void>;
  /** Resolves when the stalled model call was cancelled (the provider's socket closed, or the signal fired). */
  cancelled(): Promise<void>;
  /** The fake provider, for provider-level failures; undefined for the scripted model. */
  provider: FakeOpenAI | undefined;
  /** The agent's `models`: the scripted SDK model, or the real provider code aimed at the fake server. */
  models: AgentModels;
  close(): Promise<void>;
};

function once<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

let callIds = 0;

export function scriptedDriver(): ModelDriver {
  const seen: Seen[] = [];
  let next: (seen: Seen) => Move = () => ({ say: "OK." });
  let stall = once();
  let cancel = once();
  const model = new RespondingModel((request: ModelRequest): ScriptedModelInput => {
    const view = {
      read: readText(request),
      lastUser: lastUserText(request),
      toolResults: toolResultsThisTurn(request),
    };
    seen.push(view);
    const move = next(view);
    if ("say" in move) return [assistantMessage(move.say)];
    if ("call" in move) return [functionCall(move.call, move.args, { callId: `call_${++callIds}` })];
    request.signal?.addEventListener("abort", () => cancel.resolve(), { once: true });
    return stallAfter(move.stall, () => stall.resolve());
  });
  return {
    kind: "scripted",
    seen,
    script(fn) {
      next = fn;
    },
    async stalled() {
      await stall.promise;
      stall = once();
    },
    async cancelled() {
      await cancel.promise;
      cancel = once();
    },
    provider: undefined,
    models: { provider: "scripted", model },
    close: async () => {},
  };
}

/** What a Chat Completions or Responses request showed the model, as `Seen`. */
function seenIn(request: RecordedRequest): Seen {
  const lines = request.transcript;
  const lastUser = lines.findLastIndex((l) => l.startsWith("user: "));
  return {
    read: lines.join("\n"),
    lastUser: lastUser >= 0 ? lines[lastUser]!.slice("user: ".length) : "",
    toolResults: lines
      .slice(lastUser + 1)
      .filter((l) => l.startsWith("tool: "))
      .map((l) => l.slice("tool: ".length)),
  };
}

export async function fakeProviderDriver(): Promise<ModelDriver> {
  const provider = await startFakeOpenAI();
  const seen: Seen[] = [];
  let next: (seen: Seen) => Move = () => ({ say: "OK." });
  provider.respondWith((request): FakeReply => {
    const view = seenIn(request);
    seen.push(view);
    const move = next(view);
    if ("say" in move) return { text: move.say };
    if ("call" in move) return { toolCalls: [{ name: move.call, arguments: move.args }] };
    return { hang: true, text: move.stall, pieces: 1 };
  });
  return {
    kind: "openai-compatible",
    seen,
    script(fn) {
      next = fn;
    },
    stalled: () => provider.stalled().then(() => {}),
    cancelled: () => provider.aborted().then(() => {}),
    provider,
    models: modelSource(
      {
        provider: "openai-compatible",
        model: "fake-model",
        apiKey: "sk-fake-key",
        baseUrl: provider.baseUrl,
        tracing: false,
      },
      createOfflineModel,
    ),
    close: () => provider.close(),
  };
}

export const drivers = {
  ScriptedModel: async () => scriptedDriver(),
  "fake OpenAI-compatible server": fakeProviderDriver,
};

/** A one-tool turn: call `tool` with `args`, then say `text` once the result is in. */
export const toolThenSay =
  (tool: string, args: Record<string, unknown>, text: string) =>
  (seen: Seen): Move =>
    seen.toolResults.length > 0 ? { say: text } : { call: tool, args };

export type RealChat = GatewayHarness & {
  /** POST /chatkit; a stream is read to its end. */
  post(token: string, body: unknown, init?: RequestInit): Promise<ChatResponse>;
  /** A new user; returns their bearer token. */
  user(email: string): Promise<string>;
  userId(token: string): Promise<string>;
  /** Every stored item of a thread, hidden ones included, oldest first. */
  storedItems(token: string, threadId: string): Promise<{ type: string; [key: string]: unknown }[]>;
  /** The user's tasks through REST (the trash excluded). */
  tasks(token: string): Promise<{ id: string; title: string; status: string }[]>;
  addTask(token: string, title: string): Promise<{ id: string; title: string }>;
};

/**
 * The real gateway with the real agent in it (`createChatAgent`, its own task-service client to the MCP
 * server, as the gateway wires it), in front of the real MCP server and database; only the model is a stand-in.
 */
export async function startRealChat(
  database: TestDatabase,
  models: AgentModels,
  opts: { mcp?: McpHttpHarness } = {},
): Promise<RealChat> {
  const mcp = opts.mcp ?? (await startMcpHttpHarness(database));
  const tasks = createTaskServiceClient({ mcpUrl: mcp.url, tokenSecret: TEST_SECRET, timeoutMs: 3000 });
  const chatAgent = createChatAgent({ models, tasks, logger: silentLogger });
  const gw = await startGatewayHarness(database, { mcp, chatAgent, chatTurnsPerMinute: 10_000 });
  let users = 0;
  const chat: RealChat = {
    ...gw,
    async close() {
      await gw.close(); // closes the agent too
      await tasks.close();
      if (!opts.mcp) await mcp.close();
    },
    user: (email) => signUp(gw.baseUrl, email.replace("@", `+${++users}-${Date.now()}@`)),
    async userId(token) {
      const session = await gw.auth.api.getSession({
        headers: new Headers({ authorization: `Bearer ${token}` }),
      });
      return session!.user.id;
    },
    async storedItems(token, threadId) {
      const store = createChatStore(database.db, await chat.userId(token));
      return (await store.loadThreadItems(threadId, { limit: 200, order: "asc" })).data as {
        type: string;
      }[];
    },
    async tasks(token) {
      const res = await gw.api("/api/tasks?status=all&limit=100", token);
      if (res.status !== 200) throw new Error(`GET /api/tasks → ${res.status}: ${await res.text()}`);
      return ((await res.json()) as { tasks: { id: string; title: string; status: string }[] }).tasks;
    },
    async addTask(token, title) {
      const res = await gw.api("/api/tasks", token, { method: "POST", body: JSON.stringify({ title }) });
      if (res.status !== 201) throw new Error(`POST /api/tasks → ${res.status}: ${await res.text()}`);
      return ((await res.json()) as { task: { id: string; title: string } }).task;
    },
    post: (token, body, init) => postChatKit(gw, token, body, init),
  };
  return chat;
}
