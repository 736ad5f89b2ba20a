import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

/** One benchmark module for `bench/run.ts`: `run` resolves to a JSON-able result (with its own targets). */
export type Benchmark = { name: string; run(): Promise<object> };

/** A target printed beside a result: `pass` is the only thing CI needs to read. */
export type Target = { name: string; target: string; value: number; pass: boolean };

export const round = (n: number, digits = 3) => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

export type LoadResult = { p50_ms: number; p99_ms: number; calls_per_s: number; calls: number };

type Shape = { concurrency: number; calls: number; warmup: number };

/** Runs `total` calls of `op` on `concurrency` workers; returns each call's latency and the wall time. */
async function drive(op: (i: number) => Promise<unknown>, concurrency: number, total: number, first = 0) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = first + next++;
        const t = performance.now();
        await op(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies, seconds: (performance.now() - started) / 1000 };
}

const summarize = (latencies: number[], seconds: number): LoadResult => ({
  p50_ms: round(percentile(latencies, 0.5)),
  p99_ms: round(percentile(latencies, 0.99)),
  calls_per_s: Math.round(latencies.length / seconds),
  calls: latencies.length,
});

/**
 * Runs `op` with `concurrency` workers: `warmup` calls first (JIT, pools, caches), then `calls` measured
 * ones. Returns latency percentiles per call and throughput over the measured wall time.
 */
export async function load(op: (i: number) => Promise<unknown>, opts: Shape): Promise<LoadResult> {
  await drive(op, opts.concurrency, opts.warmup);
  const { latencies, seconds } = await drive(op, opts.concurrency, opts.calls, opts.warmup);
  return summarize(latencies, seconds);
}

/**
 * Like `load` for several operations at once, in `rounds` interleaved turns (each op warms up first), so a
 * change in machine load during the run hits all of them alike: ratios between them stay fair.
 */
export async function loadInterleaved<K extends string>(
  ops: Record<K, (i: number) => Promise<unknown>>,
  opts: Shape & { rounds: number },
): Promise<Record<K, LoadResult>> {
  const names = Object.keys(ops) as K[];
  for (const name of names) await drive(ops[name], opts.concurrency, opts.warmup);
  const pooled = new Map(names.map((name) => [name, { latencies: [] as number[], seconds: 0 }]));
  const perRound = Math.ceil(opts.calls / opts.rounds);
  for (let r = 0; r < opts.rounds; r++) {
    for (const name of names) {
      const run = await drive(ops[name], opts.concurrency, perRound, opts.warmup + r * perRound);
      const into = pooled.get(name)!;
      into.latencies.push(...run.latencies);
      into.seconds += run.seconds;
    }
  }
  return Object.fromEntries(
    [...pooled].map(([name, { latencies, seconds }]) => [name, summarize(latencies, seconds)]),
  ) as Record<K, LoadResult>;
}

/** A keep-alive HTTP client, as an MCP client holds one: each call is one POST on a reused socket. */
export function httpClient(maxSockets: number) {
  const agent = new Agent({ keepAlive: true, maxSockets });
  return {
    post(url: URL, body: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
      return new Promise((resolve, reject) => {
        const req = request(url, {
          method: "POST",
          agent,
          timeout: 10_000,
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
            ...headers,
          },
        });
        req.on("response", (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            text += chunk;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
          res.on("error", reject);
        });
        req.on("timeout", () => req.destroy(new Error(`POST ${url.href} timed out`)));
        req.on("error", reject);
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}

/** Progress goes to stderr: stdout carries only the JSON document. */
export const progress = (message: string) => process.stderr.write(`bench: ${message}\n`);

/** A free loopback port, so a server's public URL (the tokens' audience) is known before it starts. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
