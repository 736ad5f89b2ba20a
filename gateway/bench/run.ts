// `pnpm bench [name...]`: runs the benchmark modules (all, or those named) and prints ONE JSON document on
// stdout; progress goes to stderr. Exit code 0 even when a target is missed: `pass` fields report that.
import { cpus } from "node:os";
import { chatBenchmark } from "./chat.ts";
import { gatewayBenchmark } from "./gateway.ts";
import type { Benchmark } from "./lib.ts";
import { mcpBenchmark } from "./mcp.ts";

// Add modules here as `{ name, run }` entries.
const benchmarks: Benchmark[] = [mcpBenchmark, gatewayBenchmark, chatBenchmark];

// A stuck benchmark must not hang CI: whole run bounded (each module also bounds its own requests).
const WATCHDOG_MS = 5 * 60_000;

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !benchmarks.some((b) => b.name === name));
if (unknown.length) {
  console.error(
    `bench: unknown benchmark(s) ${unknown.join(", ")}; known: ${benchmarks.map((b) => b.name).join(", ")}`,
  );
  process.exit(2);
}
const selected = wanted.length ? benchmarks.filter((b) => wanted.includes(b.name)) : benchmarks;

const watchdog = setTimeout(() => {
  console.error(`bench: gave up after ${WATCHDOG_MS / 1000} s`);
  process.exit(1);
}, WATCHDOG_MS);
watchdog.unref();

const startedAt = new Date();
const started = performance.now();
const results: Record<string, object> = {};
for (const benchmark of selected) {
  const t = performance.now();
  results[benchmark.name] = await benchmark.run();
  console.error(`bench: ${benchmark.name} done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}

/** Every `pass` boolean in a result, anywhere: one `false` fails the run. */
const passes = (value: unknown): boolean[] =>
  value && typeof value === "object"
    ? Object.entries(value).flatMap(([k, v]) => (k === "pass" && typeof v === "boolean" ? [v] : passes(v)))
    : [];

process.stdout.write(
  `${JSON.stringify(
    {
      started_at: startedAt.toISOString(),
      seconds: Math.round((performance.now() - started) / 100) / 10,
      machine: { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? "unknown" },
      all_targets_pass: passes(results).every(Boolean),
      benchmarks: results,
    },
    null,
    2,
  )}\n`,
);
