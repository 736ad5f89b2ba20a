// MCP server benchmark: add_task / list_tasks over real HTTP + real Postgres, beside the floor measured in
// the same run (one loopback HTTP round trip + one `SELECT 1` through postgres.js).
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import postgres from "postgres";
import { loadConfig } from "../src/config.ts";
import { connect } from "../src/db/connect.ts";
import { createLogger } from "../src/logger.ts";
import { startMcpHttp } from "../src/mcp-server/main.ts";
import { signMcpToken } from "../src/mcp-server/token.ts";
import { listStatement } from "../src/tasks/repository.ts";
import {
  type Benchmark,
  freePort,
  httpClient,
  type LoadResult,
  load,
  loadInterleaved,
  progress,
  round,
  type Target,
} from "./lib.ts";

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const BULK_TASKS = 100_000;
const SECRET = randomBytes(32).toString("hex");
// What a stateless client sends on every call after initialize.
const MCP_HEADERS = { accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-11-25" };

// A change-log snapshot the size of a new task's.
const ADD_SNAPSHOT = JSON.stringify({
  id: "00000000-0000-4000-8000-000000000000",
  title: "floor",
  notes: "",
  status: "pending",
  priority: "medium",
  due: null,
  labels: [],
  source: null,
  created_at: new Date(0).toISOString(),
  updated_at: new Date(0).toISOString(),
  completed_at: null,
  deleted_at: null,
});

const runs = {
  c1: { concurrency: 1, warmup: 300, calls: 1_500 },
  c16: { concurrency: 16, warmup: 500, calls: 3_000 },
} as const;

export const mcpBenchmark: Benchmark = { name: "mcp", run };

async function run(): Promise<object> {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  const dbName = `margin_bench_${randomBytes(6).toString("hex")}`;
  await admin.unsafe(`create database ${dbName}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${dbName}`;
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    progress(`database ${dbName}`);
    const port = await freePort();
    // The production wiring: config from an environment, `margin mcp`'s server start, default pool size.
    const config = loadConfig({
      DATABASE_URL: url.href,
      MCP_TOKEN_SECRET: SECRET,
      BETTER_AUTH_SECRET: SECRET,
      MCP_PORT: String(port),
      MCP_URL: `http://127.0.0.1:${port}/mcp`,
      NODE_ENV: "production",
    });
    const database = await connect({ kind: "postgres", url: url.href });
    cleanups.push(() => database.close());
    await database.migrate();
    const server = await startMcpHttp(config, database, createLogger("warn", { name: "margin-mcp", fd: 2 }));
    cleanups.push(() => closeServer(server));

    const floorServer = await startFloorServer();
    cleanups.push(() => closeServer(floorServer.server));
    // The same driver and pool size as the app, on the same database.
    const sql = postgres(url.href, { max: 10, onnotice: () => {} });
    cleanups.push(() => sql.end({ timeout: 5 }));
    await sql`create table bench_floor_writes (id bigserial primary key, title text not null)`;
    // Task rows reference their account.
    await sql`insert into "user" (id, name, email, created_at, updated_at)
      select u, u, u || '@bench.test', now(), now() from unnest(${["bench-user", "bench-floor", "bench-100k"]}::text[]) u`;

    const client = httpClient(16);
    cleanups.push(async () => client.close());
    const tokenFor = (userId: string) =>
      signMcpToken(SECRET, { userId, audience: config.mcpUrl, ttl: "1h", tz: "Europe/Berlin" });
    let rpcId = 0;
    const callTool = async (token: string, name: string, args: object) => {
      const body = JSON.stringify({
        jsonrpc: "2.0",
        id: ++rpcId,
        method: "tools/call",
        params: { name, arguments: args },
      });
      const res = await client.post(config.mcpUrl, body, {
        ...MCP_HEADERS,
        authorization: `Bearer ${token}`,
      });
      if (res.status !== 200) throw new Error(`${name} → HTTP ${res.status}: ${res.body.slice(0, 300)}`);
      const parsed = JSON.parse(res.body) as { result?: { isError?: boolean; structuredContent?: unknown } };
      if (!parsed.result || parsed.result.isError)
        throw new Error(`${name} failed: ${res.body.slice(0, 300)}`);
      return parsed.result.structuredContent as Record<string, unknown>;
    };

    // The floor (the parts no implementation can avoid: one loopback HTTP round trip, one `SELECT 1`) and the
    // tool calls it bounds, measured in interleaved rounds so they see the same machine.
    const floorBody = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "x" } });
    const token = await tokenFor("bench-user");
    // Writes to existing tasks spread over a set of them, as a user's writes are: at concurrency 16 two calls
    // rarely touch the same task. Completing a repeating task moves it to its next day, so it always changes.
    const existing = async (title: string, due?: string) => {
      const ids: string[] = [];
      for (let i = 0; i < 64; i++)
        ids.push(
          ((await callTool(token, "add_task", { title: `${title} ${i}`, due })).task as { id: string }).id,
        );
      return (i: number) => ids[i % ids.length]!;
    };
    const renamed = await existing("rename me");
    // list_tasks' own SQL for the default page (pending, any due, 50 + 1 rows), exactly as the repository
    // prepares it, with the benchmark user's values in its placeholders.
    const listQuery = listStatement("pending", "any", false, false).query;
    const listValues = listQuery.params.map((param) => {
      const name = (param as { name?: string }).name;
      if (name === "user") return "bench-user";
      if (name === "limit") return 51;
      throw new Error(`list statement: no value for ${name}`);
    });
    const repeating = await existing("water plants", "every day at 9");
    const measure = async (shape: (typeof runs)[keyof typeof runs]) => {
      progress(`floor, add_task and list_tasks at concurrency ${shape.concurrency}`);
      const r = await loadInterleaved(
        {
          http: () => client.post(floorServer.url, floorBody, MCP_HEADERS),
          select1: () => sql`select 1`,
          // Not part of the floor, shown beside it: one committed (fsynced) single-row insert, the least any
          // durable add_task pays on top of the round trip.
          durable_insert: () => sql`insert into bench_floor_writes (title) values ('floor')`,
          // Also beside it: the least add_task itself must commit, a task and its change-log row (with the
          // change-log triggers), as one statement sent straight through the driver.
          add_statement: (i) => sql`
            with t as (
              insert into tasks (user_id, title, position) values ('bench-floor', ${`floor ${i}`}, ${i})
              returning id, user_id)
            insert into task_changes (user_id, task_id, op, task)
            select user_id, id, 'created', ${ADD_SNAPSHOT}::jsonb from t`,
          list_statement: () => sql.unsafe(listQuery.sql, listValues as never[], { prepare: true }),
          add_task: (i) => callTool(token, "add_task", { title: `bench task ${i}` }),
          list_tasks: () => callTool(token, "list_tasks", {}),
          // The default page holds 50 tasks; a short page shows how much of a list call is per returned task.
          list_tasks_limit_10: () => callTool(token, "list_tasks", { limit: 10 }),
          // Not targets, shown beside them: a write to an existing task, and completing a repeating one.
          update_task: (i) => callTool(token, "update_task", { task_id: renamed(i), title: `renamed ${i}` }),
          complete_task: (i) => callTool(token, "complete_task", { task_id: repeating(i) }),
        },
        { ...shape, rounds: 5 },
      );
      const floorP50 = round(r.http.p50_ms + r.select1.p50_ms);
      // Each tool's own floor (issue 11): a loopback round trip plus that tool's SQL straight through the driver.
      const addFloor = round(r.http.p50_ms + r.add_statement.p50_ms);
      const listFloor = round(r.http.p50_ms + r.list_statement.p50_ms);
      const withRatio = (x: LoadResult, toolFloor?: number) => ({
        ...x,
        ratio_to_floor: round(x.p50_ms / floorP50, 2),
        ...(toolFloor
          ? { tool_floor_ms: toolFloor, ratio_to_tool_floor: round(x.p50_ms / toolFloor, 2) }
          : {}),
      });
      return {
        floor: {
          http: r.http,
          select1: r.select1,
          p50_ms: floorP50,
          durable_insert: r.durable_insert,
          add_statement: { ...r.add_statement, ratio_to_floor: round(r.add_statement.p50_ms / floorP50, 2) },
          list_statement: r.list_statement,
        },
        add_task: withRatio(r.add_task, addFloor),
        list_tasks: withRatio(r.list_tasks, listFloor),
        list_tasks_limit_10: withRatio(r.list_tasks_limit_10),
        update_task: r.update_task,
        complete_task: r.complete_task,
      };
    };

    const { floor: floorC1, ...c1 } = await measure(runs.c1);
    const { floor: floorC16, ...c16 } = await measure(runs.c16);

    progress(`inserting ${BULK_TASKS} tasks for one user`);
    const big = await bulkInsert(sql, "bench-100k");
    const bigToken = await tokenFor("bench-100k");
    const shape100k = { concurrency: 1, warmup: 100, calls: 500 };
    // The slower lists get fewer calls.
    const shapeShort = { concurrency: 1, warmup: 20, calls: 200 };
    progress("list_tasks with 100k tasks");
    const firstPage = await callTool(bigToken, "list_tasks", {});
    const cursor = firstPage.next_cursor as string;
    const list100k = {
      default: await load(() => callTool(bigToken, "list_tasks", {}), shape100k),
      second_page: await load(() => callTool(bigToken, "list_tasks", { cursor }), shape100k),
      overdue: await load(() => callTool(bigToken, "list_tasks", { due: "overdue" }), shape100k),
      completed: await load(() => callTool(bigToken, "list_tasks", { status: "completed" }), shapeShort),
      // Search (trigram index): a term few tasks contain, and one nearly all do. Informational, not targets.
      query: await load(() => callTool(bigToken, "list_tasks", { query: "task 4242" }), shapeShort),
      query_common: await load(() => callTool(bigToken, "list_tasks", { query: "task" }), shapeShort),
    };

    const targets: Target[] = [
      atMost("add_task c1 p50 ≤ 2 ms", c1.add_task.p50_ms, 2),
      atMost(
        "add_task c1 p50 ≤ 2× its floor (round trip + its SQL)",
        c1.add_task.ratio_to_tool_floor ?? Infinity,
        2,
      ),
      atMost("list_tasks c1 p50 ≤ 2 ms", c1.list_tasks.p50_ms, 2),
      atMost(
        "list_tasks c1 p50 ≤ 2× its floor (round trip + its SQL)",
        c1.list_tasks.ratio_to_tool_floor ?? Infinity,
        2,
      ),
      atMost("list_tasks p50 ≤ 5 ms with 100k tasks", list100k.default.p50_ms, 5),
    ];
    return {
      database: "postgres",
      server: config.mcpUrl.href,
      floor: { c1: floorC1, c16: floorC16 },
      c1,
      c16,
      list_tasks_100k: { tasks: big, ...list100k },
      targets,
      pass: targets.every((t) => t.pass),
    };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err) => progress(`cleanup: ${err}`));
    await admin.unsafe(`drop database if exists ${dbName} with (force)`);
    await admin.end({ timeout: 5 });
  }
}

const atMost = (name: string, value: number, limit: number): Target => ({
  name,
  target: `≤ ${limit}`,
  value,
  pass: value <= limit,
});

/**
 * 100k tasks for one user in one statement: 1 in 3 has a due date (some overdue, some date-only), 1 in 5 is
 * completed, 1 in 20 deleted. Then ANALYZE, as autovacuum would soon after such a load.
 */
async function bulkInsert(sql: postgres.Sql, userId: string) {
  await sql`
    insert into tasks (user_id, title, status, priority, due_at, due_date_only, due_tz, position,
                       created_at, updated_at, completed_at, deleted_at)
    select ${userId}, 'bulk task ' || g,
           case when g % 5 = 0 then 'completed' else 'pending' end,
           (array['low', 'medium', 'high'])[1 + g % 3],
           case when g % 3 = 0 then now() + ((g % 120) - 30) * interval '1 day' end,
           g % 6 = 0,
           case when g % 3 = 0 then 'Europe/Berlin' end,
           g,
           now() - g * interval '1 second', now(),
           case when g % 5 = 0 then now() - g * interval '1 second' end,
           case when g % 20 = 1 then now() end
    from generate_series(1, ${BULK_TASKS}::int) g`;
  await sql`analyze tasks`;
  const [counts] = await sql<{ total: number; due: number; completed: number; deleted: number }[]>`
    select count(*)::int total, count(due_at)::int due,
           count(*) filter (where status = 'completed')::int completed,
           count(deleted_at)::int deleted
    from tasks where user_id = ${userId}`;
  return counts;
}

async function startFloorServer() {
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, result: { content: [] } });
  const server = createServer((req, res) => {
    // Drain the request like a real handler, then answer a constant.
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`) };
}

function closeServer(server: Server) {
  return new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
