import type {
  AgentEvent,
  AgentUser,
  ChatAgent,
  PendingConfirmation,
  TurnInput,
} from "../../src/agent/contract.ts";
import { signUp } from "../support/auth.ts";
import type { TestDatabase } from "../support/database.ts";
import { type GatewayHarness, startGatewayHarness } from "../support/gateway.ts";
import { databaseForFileWith } from "../support/suite.ts";
import { eventShape, parseSse } from "./fixtures.ts";

export type Script = (input: TurnInput) => AsyncIterable<AgentEvent> | Iterable<AgentEvent>;

/**
 * A stand-in for the real agent in tests of the ChatKit server itself: the events a turn yields are scripted,
 * and every turn's input (history, message, page) is recorded. The e2e tests use the real agent.
 */
export class ScriptedAgent implements ChatAgent {
  readonly provider = "test";
  readonly model = "scripted";
  readonly turns: TurnInput[] = [];
  readonly confirmed: { user: AgentUser; confirmation: PendingConfirmation }[] = [];
  script: Script;
  confirmedScript: (confirmation: PendingConfirmation) => Iterable<AgentEvent> = (c) =>
    say(`Done: ${c.prompt}`);

  constructor(script: Script = () => say("OK.")) {
    this.script = script;
  }

  async *runTurn(input: TurnInput): AsyncIterable<AgentEvent> {
    this.turns.push(input);
    yield* this.script(input);
  }

  async *runConfirmed(input: {
    user: AgentUser;
    confirmation: PendingConfirmation;
    signal: AbortSignal;
  }): AsyncIterable<AgentEvent> {
    this.confirmed.push({ user: input.user, confirmation: input.confirmation });
    yield* this.confirmedScript(input.confirmation);
  }

  readConfirmationReply(message: string): "yes" | "no" | undefined {
    if (/^\s*(yes|y|confirm|do it)\b/i.test(message)) return "yes";
    if (/^\s*(no|n|cancel|stop)\b/i.test(message)) return "no";
    return undefined;
  }

  async close() {}
}

/** An answer streamed in pieces, then its end. */
export function say(text: string, pieces = 3): AgentEvent[] {
  const size = Math.ceil(text.length / pieces);
  const deltas: AgentEvent[] = [];
  for (let i = 0; i < text.length; i += size)
    deltas.push({ type: "text.delta", delta: text.slice(i, i + size) });
  return [...deltas, { type: "text.done", text }];
}

export type ChatHarness = GatewayHarness & {
  agent: ScriptedAgent;
  /** POST /chatkit; a stream is read to its end. */
  post(token: string, body: unknown, init?: RequestInit): Promise<ChatResponse>;
  user(email: string): Promise<string>;
};

export type ChatResponse = {
  status: number;
  contentType: string;
  events: Record<string, unknown>[];
  json: unknown;
  shapes: string[];
};

/** POST /chatkit through the gateway as `token`'s user; a stream is read to its end. */
export async function postChatKit(
  gw: GatewayHarness,
  token: string,
  body: unknown,
  init: RequestInit = {},
): Promise<ChatResponse> {
  const res = await gw.api("/chatkit", token, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init,
  });
  const contentType = res.headers.get("content-type") ?? "";
  const text = await res.text();
  if (contentType.startsWith("text/event-stream")) {
    const events = parseSse(text);
    return { status: res.status, contentType, events, json: undefined, shapes: events.map(eventShape) };
  }
  return {
    status: res.status,
    contentType,
    events: [],
    json: text ? JSON.parse(text) : undefined,
    shapes: [],
  };
}

export async function startChatHarness(
  database: TestDatabase,
  opts: { agent?: ScriptedAgent; chatTurnsPerMinute?: number } = {},
): Promise<ChatHarness> {
  const agent = opts.agent ?? new ScriptedAgent();
  const gw = await startGatewayHarness(database, {
    chatAgent: agent,
    chatTurnsPerMinute: opts.chatTurnsPerMinute,
  });
  let users = 0;
  return {
    ...gw,
    agent,
    user: (email) => signUp(gw.baseUrl, email.replace("@", `+${++users}-${Date.now()}@`)),
    post: (token, body, init) => postChatKit(gw, token, body, init),
  };
}

/** A chat harness on a fresh test database for the file's tests, both closed after them. */
export function chatHarnessForFile(opts?: Parameters<typeof startChatHarness>[1]): {
  database: TestDatabase;
  chat: ChatHarness;
} {
  const { database, started } = databaseForFileWith((database) => startChatHarness(database, opts));
  return { database, chat: started };
}

export const userText = (text: string) => ({
  content: [{ type: "input_text", text }],
  attachments: [],
  inference_options: {},
});

export const create = (text: string, metadata?: Record<string, unknown>) => ({
  type: "threads.create",
  params: { input: userText(text) },
  ...(metadata ? { metadata } : {}),
});

export const addMessage = (threadId: string, text: string, metadata?: Record<string, unknown>) => ({
  type: "threads.add_user_message",
  params: { thread_id: threadId, input: userText(text) },
  ...(metadata ? { metadata } : {}),
});

/** The thread id a `threads.create` stream announced. */
export const createdThreadId = (r: ChatResponse) =>
  (r.events.find((e) => e.type === "thread.created") as { thread: { id: string } }).thread.id;

export const itemsOf = (r: ChatResponse, type: string, eventType = "thread.item.done") =>
  r.events
    .filter((e) => e.type === eventType && (e.item as { type: string }).type === type)
    .map((e) => e.item as Record<string, unknown> & { id: string });
