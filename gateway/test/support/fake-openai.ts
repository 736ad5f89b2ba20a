import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";

/**
 * A local OpenAI-compatible HTTP server for tests: Chat Completions (streaming and not) and the Responses API,
 * answered from a script, so the real provider code (the `openai` client, the Agents SDK's model classes, our
 * retry and abort handling) runs against real HTTP with no network and no key.
 */

/** One scripted answer. A function of the request can pick it (`respondWith`). */
export type FakeReply =
  /** An assistant message; streamed in `pieces` content deltas when the request streams. */
  | { text: string; pieces?: number }
  /** Tool calls (arguments streamed in pieces), optionally after some text. */
  | { toolCalls: FakeToolCall[]; text?: string }
  /** An HTTP error, as providers send them: `429` with `Retry-After`, `500`, `503`. */
  | { status: number; retryAfter?: number; message?: string }
  /**
   * Streams `text` (or nothing), then holds the connection open until the client goes away: a slow model,
   * for cancellation tests. `stalled` resolves when the stall begins, `aborted` when the client hangs up.
   */
  | { hang: true; text?: string; pieces?: number };

export type FakeToolCall = {
  name: string;
  arguments: Record<string, unknown> | string;
  id?: string;
  /** Sent as Gemini does: `extra_content: { google: { thought_signature } }` on the call. */
  thoughtSignature?: string;
};

const extraContent = (call: FakeToolCall) =>
  call.thoughtSignature ? { extra_content: { google: { thought_signature: call.thoughtSignature } } } : {};

/** What a request asked, as the server received it. */
export type RecordedRequest = {
  api: "chat.completions" | "responses";
  path: string;
  headers: IncomingMessage["headers"];
  body: ChatBody | ResponsesBody;
  stream: boolean;
  /** The request's messages as plain text lines ("user: …", "tool: …"), for asserting what the model read. */
  transcript: string[];
  /** Names of the tools the request offered. */
  tools: string[];
  /** When the client went away before the answer ended. */
  aborted: boolean;
};

export type FakeOpenAI = {
  /** The base URL to give an OpenAI client (`…/v1`). */
  baseUrl: string;
  requests: RecordedRequest[];
  /** Queues replies, answered in order; when the queue is empty, `respondWith` (default: an error) answers. */
  enqueue(...replies: FakeReply[]): void;
  respondWith(fn: (request: RecordedRequest) => FakeReply | Promise<FakeReply>): void;
  /** The first `count` requests from now answer `status` (with `Retry-After: retryAfter` seconds if set). */
  failNext(count: number, status: number, retryAfter?: number): void;
  /** Resolves when a `hang` reply has sent its text and is holding the connection. */
  stalled(): Promise<RecordedRequest>;
  /** Resolves when a client hung up on a hanging reply. */
  aborted(): Promise<RecordedRequest>;
  close(): Promise<void>;
};

const message = z.looseObject({
  role: z.string(),
  content: z.unknown().optional(),
  tool_calls: z.array(z.looseObject({ function: z.looseObject({ name: z.string() }) })).optional(),
});
const chatBody = z.looseObject({
  model: z.string(),
  messages: z.array(message),
  stream: z.boolean().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).optional(),
  tools: z.array(z.looseObject({ function: z.looseObject({ name: z.string() }) })).optional(),
});
const responsesBody = z.looseObject({
  model: z.string(),
  input: z.union([z.string(), z.array(z.looseObject({}))]),
  instructions: z.string().nullish(),
  stream: z.boolean().optional(),
  tools: z.array(z.looseObject({ name: z.string().optional() })).optional(),
});
export type ChatBody = z.infer<typeof chatBody>;
export type ResponsesBody = z.infer<typeof responsesBody>;

/** Text of a message's `content`, whether a string or a list of parts. */
function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content))
    return content
      .map((part) => (part && typeof part === "object" && "text" in part ? String(part.text) : ""))
      .join("");
  return "";
}

function chatTranscript(body: ChatBody): string[] {
  return body.messages.map((m) => {
    const calls = m.tool_calls?.map((c) => `call ${c.function.name}`).join(", ");
    return `${m.role}: ${textOf(m.content)}${calls ? ` [${calls}]` : ""}`;
  });
}

function responsesTranscript(body: ResponsesBody): string[] {
  const lines = body.instructions ? [`system: ${body.instructions}`] : [];
  if (typeof body.input === "string") return [...lines, `user: ${body.input}`];
  for (const item of body.input) {
    if (item.type === "function_call") lines.push(`assistant: [call ${String(item.name)}]`);
    else if (item.type === "function_call_output") lines.push(`tool: ${textOf(item.output)}`);
    else if ("role" in item) lines.push(`${String(item.role)}: ${textOf(item.content)}`);
  }
  return lines;
}

const argumentsText = (call: FakeToolCall) =>
  typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments);

/** Splits text into about `pieces` parts (at least one), as a model streams it. */
function split(text: string, pieces: number): string[] {
  if (!text) return [];
  const size = Math.max(1, Math.ceil(text.length / pieces));
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return parts;
}

const piecesOf = (reply: FakeReply) => ("pieces" in reply ? (reply.pieces ?? 3) : 3);

const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };

let ids = 0;
const nextId = (prefix: string) => `${prefix}_fake${++ids}`;

function chatCompletion(reply: Exclude<FakeReply, { status: number } | { hang: true }>, model: string) {
  const calls = "toolCalls" in reply ? reply.toolCalls : [];
  return {
    id: nextId("chatcmpl"),
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: reply.text ?? null,
          refusal: null,
          ...(calls.length
            ? {
                tool_calls: calls.map((c) => ({
                  id: c.id ?? nextId("call"),
                  type: "function",
                  function: { name: c.name, arguments: argumentsText(c) },
                  ...extraContent(c),
                })),
              }
            : {}),
        },
        finish_reason: calls.length ? "tool_calls" : "stop",
        logprobs: null,
      },
    ],
    usage,
  };
}

/** The SSE chunks of a streamed Chat Completion: role, content deltas, tool-call deltas, finish, usage. */
function* chatChunks(
  reply: Exclude<FakeReply, { status: number }>,
  model: string,
  includeUsage: boolean,
): Generator<object> {
  const id = nextId("chatcmpl");
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta: object, finish: string | null = null) => ({
    id,
    object: "chat.completion.chunk",
    created,
    model,
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
  });
  yield chunk({ role: "assistant", content: "" });
  for (const piece of split(reply.text ?? "", piecesOf(reply))) yield chunk({ content: piece });
  if ("hang" in reply) return;
  const calls = "toolCalls" in reply ? reply.toolCalls : [];
  for (const [index, call] of calls.entries()) {
    yield chunk({
      tool_calls: [
        {
          index,
          id: call.id ?? nextId("call"),
          type: "function",
          function: { name: call.name, arguments: "" },
          ...extraContent(call),
        },
      ],
    });
    for (const piece of split(argumentsText(call), 2))
      yield chunk({ tool_calls: [{ index, function: { arguments: piece } }] });
  }
  yield chunk({}, calls.length ? "tool_calls" : "stop");
  if (includeUsage) yield { id, object: "chat.completion.chunk", created, model, choices: [], usage };
}

function responsesOutput(reply: Exclude<FakeReply, { status: number } | { hang: true }>) {
  const output: object[] = [];
  if (reply.text)
    output.push({
      type: "message",
      id: nextId("msg"),
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text: reply.text, annotations: [] }],
    });
  for (const call of "toolCalls" in reply ? reply.toolCalls : [])
    output.push({
      type: "function_call",
      id: nextId("fc"),
      call_id: call.id ?? nextId("call"),
      name: call.name,
      arguments: argumentsText(call),
      status: "completed",
    });
  return output;
}

function responseObject(id: string, model: string, output: object[], status: string) {
  return {
    id,
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    status,
    model,
    output,
    usage: {
      input_tokens: 10,
      output_tokens: 5,
      total_tokens: 15,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens_details: { reasoning_tokens: 0 },
    },
  };
}

/** The SSE events of a streamed Responses answer: created, text deltas, the items, completed. */
function* responsesEvents(reply: Exclude<FakeReply, { status: number }>, model: string): Generator<object> {
  const id = nextId("resp");
  let sequence = 0;
  const event = (type: string, fields: object) => ({ type, sequence_number: sequence++, ...fields });
  yield event("response.created", { response: responseObject(id, model, [], "in_progress") });
  const text = reply.text ?? "";
  const messageId = nextId("msg");
  if (text) {
    const item = { type: "message", id: messageId, status: "in_progress", role: "assistant", content: [] };
    yield event("response.output_item.added", { output_index: 0, item });
    for (const delta of split(text, piecesOf(reply)))
      yield event("response.output_text.delta", {
        item_id: messageId,
        output_index: 0,
        content_index: 0,
        delta,
        logprobs: [],
      });
  }
  if ("hang" in reply) return;
  const output = responsesOutput(reply);
  for (const [index, item] of output.entries())
    yield event("response.output_item.done", { output_index: index, item });
  yield event("response.completed", { response: responseObject(id, model, output, "completed") });
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

function sendError(res: ServerResponse, reply: { status: number; retryAfter?: number; message?: string }) {
  const type = reply.status === 429 ? "rate_limit_exceeded" : "server_error";
  res.writeHead(reply.status, {
    "content-type": "application/json",
    ...(reply.retryAfter !== undefined ? { "retry-after": String(reply.retryAfter) } : {}),
  });
  res.end(JSON.stringify({ error: { message: reply.message ?? `fake ${reply.status}`, type, code: type } }));
}

/** Starts the fake on a loopback port. Unscripted requests get a 500 that names the problem. */
export async function startFakeOpenAI(): Promise<FakeOpenAI> {
  const requests: RecordedRequest[] = [];
  const queue: FakeReply[] = [];
  let fallback: (request: RecordedRequest) => FakeReply | Promise<FakeReply> = () => ({
    status: 500,
    message: "fake-openai: no reply scripted for this request",
  });
  let failures: { count: number; status: number; retryAfter?: number } | undefined;
  const waiting = {
    stalled: [] as ((r: RecordedRequest) => void)[],
    aborted: [] as ((r: RecordedRequest) => void)[],
  };
  const happened = { stalled: [] as RecordedRequest[], aborted: [] as RecordedRequest[] };
  const notify = (what: "stalled" | "aborted", request: RecordedRequest) => {
    const waiter = waiting[what].shift();
    if (waiter) waiter(request);
    else happened[what].push(request);
  };
  const wait = (what: "stalled" | "aborted") =>
    new Promise<RecordedRequest>((resolve) => {
      const ready = happened[what].shift();
      if (ready) resolve(ready);
      else waiting[what].push(resolve);
    });
  const open = new Set<ServerResponse>();

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const path = new URL(req.url ?? "/", "http://fake").pathname;
    const api = path.endsWith("/chat/completions")
      ? "chat.completions"
      : path.endsWith("/responses")
        ? "responses"
        : undefined;
    if (req.method !== "POST" || !api) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `fake-openai: no route ${req.method} ${path}` } }));
      return;
    }
    const raw = await readBody(req);
    const parsed = (api === "chat.completions" ? chatBody : responsesBody).safeParse(raw);
    if (!parsed.success) {
      sendError(res, { status: 400, message: `fake-openai: malformed request: ${parsed.error.message}` });
      return;
    }
    const body = parsed.data;
    const request: RecordedRequest = {
      api,
      path,
      headers: req.headers,
      body,
      stream: body.stream === true,
      transcript:
        api === "chat.completions"
          ? chatTranscript(body as ChatBody)
          : responsesTranscript(body as ResponsesBody),
      tools: (body.tools ?? []).map((t) =>
        "function" in t ? (t.function as { name: string }).name : String(t.name),
      ),
      aborted: false,
    };
    requests.push(request);
    res.on("close", () => {
      if (!res.writableFinished) request.aborted = true;
    });

    let reply: FakeReply;
    if (failures && failures.count > 0) {
      failures.count--;
      reply = { status: failures.status, retryAfter: failures.retryAfter };
    } else {
      reply = queue.shift() ?? (await fallback(request));
    }
    if ("status" in reply) {
      sendError(res, reply);
      return;
    }
    if (!request.stream) {
      if ("hang" in reply) return holdOpen(request, res);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify(
          api === "chat.completions"
            ? chatCompletion(reply, body.model)
            : responseObject(nextId("resp"), body.model, responsesOutput(reply), "completed"),
        ),
      );
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const includeUsage =
      api === "chat.completions" && (body as ChatBody).stream_options?.include_usage === true;
    const events =
      api === "chat.completions"
        ? chatChunks(reply, body.model, includeUsage)
        : responsesEvents(reply, body.model);
    for (const event of events) {
      const named = api === "responses" ? `event: ${(event as { type: string }).type}\n` : "";
      res.write(`${named}data: ${JSON.stringify(event)}\n\n`);
    }
    if ("hang" in reply) return holdOpen(request, res);
    if (api === "chat.completions") res.write("data: [DONE]\n\n");
    res.end();
  }

  function holdOpen(request: RecordedRequest, res: ServerResponse) {
    open.add(res);
    res.on("close", () => {
      open.delete(res);
      notify("aborted", request);
    });
    notify("stalled", request);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, { status: 500, message: `fake-openai: ${String(err)}` });
      else res.destroy();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    enqueue: (...replies) => void queue.push(...replies),
    respondWith(fn) {
      fallback = fn;
    },
    failNext(count, status, retryAfter) {
      failures = { count, status, retryAfter };
    },
    stalled: () => wait("stalled"),
    aborted: () => wait("aborted"),
    async close() {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
