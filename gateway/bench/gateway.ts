// Gateway benchmarks: capture-to-other-device latency over SSE, and REST POST /api/tasks beside the MCP call it wraps.
import { signUp } from "../test/support/auth.ts";
import { createTestDatabase } from "../test/support/database.ts";
import { readSse, startGatewayHarness } from "../test/support/gateway.ts";
import { type Benchmark, type LoadResult, load, percentile, progress, round, type Target } from "./lib.ts";

const WRITES_PER_S = 50;

async function run() {
  const database = await createTestDatabase();
  const gw = await startGatewayHarness(database, { writeRateLimitPerMinute: 1_000_000 });
  try {
    const email = `bench-${Date.now()}@example.com`;
    const deviceA = await signUp(gw.baseUrl, email);
    const signIn = await fetch(`${gw.baseUrl}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: gw.baseUrl },
      body: JSON.stringify({ email, password: "correct-horse-battery" }),
    });
    const deviceB = signIn.headers.get("set-auth-token")!;
    const post = (token: string, title: string) =>
      gw.api("/api/tasks", token, { method: "POST", body: JSON.stringify({ title }) }).then(async (r) => {
        if (r.status !== 201) throw new Error(`POST /api/tasks → ${r.status} ${await r.text()}`);
        await r.arrayBuffer();
      });

    // 1. Capture on device A → change event on device B's stream, at a steady 50 writes/s. A warm-up round
    // first (pools open their connections, the JIT compiles the paths), as the REST runs below have too.
    const stream = readSse(await gw.api("/api/changes", deviceB));
    await stream.waitFor((events) => events.some((e) => e.event === "ready"));
    const sentAt = new Map<string, number>();
    const paced = async (label: string, writes: number) => {
      const latency: number[] = [];
      const before = stream.changes().length;
      let seen = before;
      const collect = () => {
        const changes = stream.changes();
        for (; seen < changes.length; seen++) {
          const t = sentAt.get(changes[seen]!.task.title);
          if (t !== undefined) latency.push(changes[seen]!.arrivedAt - t);
        }
      };
      const started = performance.now();
      for (let i = 0; i < writes; i++) {
        const wait = started + i * (1000 / WRITES_PER_S) - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const title = `${label} capture ${i}`;
        sentAt.set(title, performance.now());
        void post(deviceA, title);
        collect();
      }
      await stream.waitFor(() => stream.changes().length >= before + writes, 10_000);
      collect();
      return latency;
    };
    await paced("warm-up", WRITES_PER_S * 2);
    const writes = WRITES_PER_S * 10;
    const latency = await paced("measured", writes);
    await stream.close();
    const sse = {
      writes_per_s: WRITES_PER_S,
      writes,
      p50_ms: round(percentile(latency, 0.5)),
      p99_ms: round(percentile(latency, 0.99)),
      target: { p50_ms: 50, p99_ms: 200 },
    };
    progress(`gateway: capture → other device p50 ${sse.p50_ms} ms`);

    // 2. REST POST /api/tasks vs the MCP add_task call it wraps, same user, same concurrency.
    const mcpToken = await gw.mcp.token(`bench-mcp-${Date.now()}`);
    let rpcId = 0;
    const mcpAdd = (title: string) =>
      fetch(gw.mcp.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          authorization: `Bearer ${mcpToken}`,
        },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: ++rpcId,
          method: "tools/call",
          params: { name: "add_task", arguments: { title } },
        }),
      }).then((r) => r.arrayBuffer());
    const rest: Record<
      string,
      { rest_post: LoadResult; mcp_add_task: LoadResult; gateway_overhead_p50_ms: number }
    > = {};
    for (const concurrency of [1, 16]) {
      const calls = concurrency === 1 ? 300 : 1000;
      const viaGateway = await load((i) => post(deviceA, `rest ${concurrency}/${i}`), {
        concurrency,
        calls,
        warmup: 50,
      });
      const direct = await load((i) => mcpAdd(`mcp ${concurrency}/${i}`), { concurrency, calls, warmup: 50 });
      rest[`concurrency_${concurrency}`] = {
        rest_post: viaGateway,
        mcp_add_task: direct,
        gateway_overhead_p50_ms: round(viaGateway.p50_ms - direct.p50_ms),
      };
      progress(`gateway: POST /api/tasks at concurrency ${concurrency}: p50 ${viaGateway.p50_ms} ms`);
    }
    // Issue 11: the gateway (session check from its cache, write budget, REST → MCP) adds little to the call.
    const c1 = rest.concurrency_1!;
    const c16 = rest.concurrency_16!;
    const throughputShare = round(c16.rest_post.calls_per_s / c16.mcp_add_task.calls_per_s, 2);
    const targets: Target[] = [
      {
        name: "gateway overhead p50 at c=1 (REST POST /api/tasks − MCP add_task)",
        target: "≤ 0.5 ms",
        value: c1.gateway_overhead_p50_ms,
        pass: c1.gateway_overhead_p50_ms <= 0.5,
      },
      {
        name: "REST POST /api/tasks throughput at c=16 as a share of MCP add_task's",
        target: "≥ 0.6",
        value: throughputShare,
        pass: throughputShare >= 0.6,
      },
    ];
    return {
      capture_to_other_device: { ...sse, pass: sse.p50_ms <= 50 && sse.p99_ms <= 200 },
      rest_post_tasks: { ...rest, targets, pass: targets.every((t) => t.pass) },
    };
  } finally {
    await gw.close();
    await database.destroy();
  }
}

export const gatewayBenchmark: Benchmark = { name: "gateway", run };
