// Chat turn benchmark: POST /chatkit → agent (zero-latency scripted model, one add_task call through MCP) →
// ChatKit SSE, at concurrency 1 and 16; beside it, in the same run, the seeds' pattern (a new MCP connection and
// a tool listing per request) behind the same gateway. Interleaved rounds, so machine load hits both alike.
import { Agent as HttpAgent, request } from "node:http";
import { createChatAgent } from "../src/agent/chat-agent.ts";
import type { ChatAgent } from "../src/agent/contract.ts";
import { createTaskServiceClient } from "../src/task-service/client.ts";
import { signUp } from "../test/support/auth.ts";
import { createTestDatabase } from "../test/support/database.ts";
import { type GatewayHarness, startGatewayHarness } from "../test/support/gateway.ts";
import { silentLogger, startMcpHttpHarness, TEST_SECRET } from "../test/support/mcp.ts";
import { InstantToolModel } from "./instant-model.ts";
import { type Benchmark, percentile, progress, round } from "./lib.ts";
import { createEventsOnlyAgent, createSeedsPatternAgent } from "./seeds-agent.ts";

const SHAPES = [
  { concurrency: 1, turns: 60, warmup: 10, rounds: 3 },
  { concurrency: 16, turns: 96, warmup: 16, rounds: 2 },
];

type Timing = { firstEventMs: number; wholeMs: number };

/** One chat turn as a client sees it: the request until the first SSE bytes, and until the stream ends. */
function chatTurn(agent: HttpAgent, url: URL, token: string, body: string): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let firstEventMs = Number.NaN;
    const req = request(url, {
      method: "POST",
      agent,
      timeout: 10_000,
      headers: {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body),
        authorization: `Bearer ${token}`,
      },
    });
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        if (Number.isNaN(firstEventMs)) firstEventMs = performance.now() - started;
        text += chunk;
      });
      res.on("end", () => {
        // A turn that failed fast would flatter the numbers: every measured turn must have run its tool.
        if (res.statusCode !== 200 || text.includes('"type":"error"') || !text.includes('"workflow"'))
          reject(new Error(`chat turn failed (${res.statusCode}): ${text.slice(0, 300)}`));
        else resolve({ firstEventMs, wholeMs: performance.now() - started });
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("chat turn timed out")));
    req.on("error", reject);
    req.end(body);
  });
}

const SIDES = ["margin", "seeds_pattern", "chatkit_only"] as const;
type Side = { name: (typeof SIDES)[number]; gw: GatewayHarness; tokens: string[]; http: HttpAgent };

const turnBody = JSON.stringify({
  type: "threads.create",
  params: {
    input: {
      content: [{ type: "input_text", text: "add a benchmark task" }],
      attachments: [],
      inference_options: {},
    },
  },
});

/** `count` turns on `concurrency` workers, each worker as its own user. */
async function drive(side: Side, concurrency: number, count: number): Promise<Timing[]> {
  const url = new URL("/chatkit", side.gw.baseUrl);
  const timings: Timing[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (next++ < count) timings.push(await chatTurn(side.http, url, side.tokens[worker]!, turnBody));
    }),
  );
  return timings;
}

function summarize(timings: Timing[], seconds: number) {
  const first = timings.map((t) => t.firstEventMs);
  const whole = timings.map((t) => t.wholeMs);
  return {
    first_event: { p50_ms: round(percentile(first, 0.5)), p95_ms: round(percentile(first, 0.95)) },
    whole_turn: { p50_ms: round(percentile(whole, 0.5)), p95_ms: round(percentile(whole, 0.95)) },
    turns_per_s: Math.round(timings.length / seconds),
    turns: timings.length,
  };
}

async function run() {
  const database = await createTestDatabase();
  const mcp = await startMcpHttpHarness(database);
  // The gateway's shared MCP client, as createGateway hands it to the agent.
  const tasks = createTaskServiceClient({ mcpUrl: mcp.url, tokenSecret: TEST_SECRET });
  // Zero latency: the model answers at once, so what is measured is Margin's own work around it.
  const model = () => new InstantToolModel("add_task", { title: "Benchmark task" }, "Added it.");
  const agents: Record<Side["name"], ChatAgent> = {
    margin: createChatAgent({
      models: { provider: "scripted", model: model() },
      tasks,
      logger: silentLogger,
    }),
    seeds_pattern: createSeedsPatternAgent({ mcpUrl: mcp.url, tokenSecret: TEST_SECRET, model: model() }),
    chatkit_only: createEventsOnlyAgent(),
  };
  const sides = {} as Record<Side["name"], Side>;
  try {
    for (const name of SIDES) {
      const chatAgent = agents[name];
      const gw = await startGatewayHarness(database, { mcp, chatAgent, chatTurnsPerMinute: 1e9 });
      const tokens = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          signUp(gw.baseUrl, `bench-chat-${name}-${i}-${Date.now()}@example.com`),
        ),
      );
      sides[name] = { name, gw, tokens, http: new HttpAgent({ keepAlive: true, maxSockets: 16 }) };
    }
    const result: Record<string, unknown> = {};
    for (const shape of SHAPES) {
      const timings = { margin: [] as Timing[], seeds_pattern: [] as Timing[], chatkit_only: [] as Timing[] };
      const seconds = { margin: 0, seeds_pattern: 0, chatkit_only: 0 };
      for (const name of SIDES) await drive(sides[name], shape.concurrency, shape.warmup);
      for (let r = 0; r < shape.rounds; r++) {
        for (const name of SIDES) {
          const t = performance.now();
          timings[name].push(...(await drive(sides[name], shape.concurrency, shape.turns / shape.rounds)));
          seconds[name] += (performance.now() - t) / 1000;
        }
      }
      const margin = summarize(timings.margin, seconds.margin);
      const seeds = summarize(timings.seeds_pattern, seconds.seeds_pattern);
      const chatkitOnly = summarize(timings.chatkit_only, seconds.chatkit_only);
      const speedup = round(seeds.whole_turn.p50_ms / margin.whole_turn.p50_ms, 2);
      result[`concurrency_${shape.concurrency}`] = {
        margin,
        seeds_pattern: seeds,
        // Not a target: the ChatKit server's share of margin's turn (no model, no MCP call).
        chatkit_only: chatkitOnly,
        whole_turn_p50_speedup: speedup,
        ...(shape.concurrency === 1
          ? {
              targets: [
                {
                  name: "whole-turn overhead p50 at c=1",
                  target: "<= 10 ms",
                  value: margin.whole_turn.p50_ms,
                  pass: margin.whole_turn.p50_ms <= 10,
                },
                {
                  name: "speed-up over the seeds' pattern (whole-turn p50)",
                  target: ">= 5x",
                  value: speedup,
                  pass: speedup >= 5,
                },
              ],
            }
          : {}),
      };
      progress(
        `chat: c=${shape.concurrency} whole turn p50 ${margin.whole_turn.p50_ms} ms (ChatKit alone ${chatkitOnly.whole_turn.p50_ms} ms), seeds' pattern ${seeds.whole_turn.p50_ms} ms (${speedup}x)`,
      );
    }
    return result;
  } finally {
    for (const side of Object.values(sides)) {
      side.http.destroy();
      await side.gw.close();
    }
    await tasks.close();
    await mcp.close();
    await database.destroy();
  }
}

export const chatBenchmark: Benchmark = { name: "chat", run };
