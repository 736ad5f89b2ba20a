// Gateway benchmarks: capture-to-other-device latency over SSE, and REST POST /api/tasks beside the MCP call it wraps.
// The MCP server runs as `margin mcp` in its own process, as deployed; the gateway runs here, in the bench's.

import { once } from "node:events";
import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { signUp } from "../test/support/auth.ts";
import { createTestDatabase } from "../test/support/database.ts";
import { readSse, startGatewayHarness } from "../test/support/gateway.ts";
import {
  type Benchmark,
  type LoadResult,
  loadInterleaved,
  percentile,
  progress,
  round,
  type Target,
} from "./lib.ts";
import { startMcpProcess } from "./mcp-process.ts";

const WRITES_PER_S = 50;

async function run() {
  const database = await createTestDatabase();
  const mcp = await startMcpProcess(database);
  const gw = await startGatewayHarness(database, { writeRateLimitPerMinute: 1_000_000, mcp }).catch(
    async (err: unknown) => {
      await mcp.close();
      throw err;
    },
  );
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

    // 2. REST POST /api/tasks vs the MCP add_task call it wraps, same user, same concurrency, interleaved
    // rounds. Beside them, the least any gateway in its own process adds: a bare node:http forwarder that
    // takes the same JSON, makes the same add_task call on a keep-alive socket, and answers with its task.
    const mcpToken = await gw.mcp.token(`bench-mcp-${Date.now()}`);
    let rpcId = 0;
    const addTaskBody = (title: string) =>
      JSON.stringify({
        jsonrpc: "2.0",
        id: ++rpcId,
        method: "tools/call",
        params: { name: "add_task", arguments: { title } },
      });
    const mcpHeaders = {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      authorization: `Bearer ${mcpToken}`,
    };
    const mcpAdd = (title: string) =>
      fetch(gw.mcp.url, { method: "POST", headers: mcpHeaders, body: addTaskBody(title) }).then((r) =>
        r.arrayBuffer(),
      );
    const forwarder = await startBareForwarder(gw.mcp.url, mcpHeaders, addTaskBody);
    const viaForwarder = (title: string) =>
      fetch(forwarder.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ title }),
      }).then(async (r) => {
        if (r.status !== 201) throw new Error(`bare forwarder → ${r.status} ${await r.text()}`);
        await r.arrayBuffer();
      });
    const rest: Record<
      string,
      {
        rest_post: LoadResult;
        mcp_add_task: LoadResult;
        bare_forwarder: LoadResult;
        gateway_overhead_p50_ms: number;
        bare_forwarder_overhead_p50_ms: number;
        beyond_bare_forwarder_p50_ms: number;
      }
    > = {};
    try {
      for (const concurrency of [1, 16]) {
        const calls = concurrency === 1 ? 600 : 1500;
        const r = await loadInterleaved(
          {
            rest_post: (i) => post(deviceA, `rest ${concurrency}/${i}`),
            mcp_add_task: (i) => mcpAdd(`mcp ${concurrency}/${i}`),
            bare_forwarder: (i) => viaForwarder(`bare ${concurrency}/${i}`),
          },
          { concurrency, calls, warmup: 50, rounds: 3 },
        );
        rest[`concurrency_${concurrency}`] = {
          ...r,
          gateway_overhead_p50_ms: round(r.rest_post.p50_ms - r.mcp_add_task.p50_ms),
          bare_forwarder_overhead_p50_ms: round(r.bare_forwarder.p50_ms - r.mcp_add_task.p50_ms),
          beyond_bare_forwarder_p50_ms: round(r.rest_post.p50_ms - r.bare_forwarder.p50_ms),
        };
        progress(
          `gateway: POST /api/tasks at concurrency ${concurrency}: p50 ${r.rest_post.p50_ms} ms ` +
            `(MCP add_task ${r.mcp_add_task.p50_ms} ms, bare forwarder ${r.bare_forwarder.p50_ms} ms)`,
        );
      }
    } finally {
      await forwarder.close();
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
    await mcp.close();
    await database.destroy();
  }
}

export const gatewayBenchmark: Benchmark = { name: "gateway", run };

/**
 * The least a gateway in its own process can add to an MCP call: no framework, auth, validation or limits, only
 * the extra loopback hop, JSON in and out, and the MCP call on a kept-alive socket.
 */
async function startBareForwarder(
  mcpUrl: URL,
  mcpHeaders: Record<string, string>,
  addTaskBody: (title: string) => string,
) {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => {
      const call = addTaskBody((JSON.parse(body) as { title: string }).title);
      const out = request(
        mcpUrl,
        { method: "POST", agent, headers: { ...mcpHeaders, "content-length": Buffer.byteLength(call) } },
        (answer) => {
          let text = "";
          answer.setEncoding("utf8");
          answer.on("data", (chunk: string) => {
            text += chunk;
          });
          answer.on("end", () => {
            const task = (JSON.parse(text) as { result: { structuredContent: { task: unknown } } }).result
              .structuredContent.task;
            res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify({ task }));
          });
        },
      );
      out.on("error", () => res.writeHead(502).end());
      out.end(call);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/tasks`,
    async close() {
      agent.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
