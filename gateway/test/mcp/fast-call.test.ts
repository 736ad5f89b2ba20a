import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createMcpServer } from "../../src/mcp-server/server.ts";
import { createTaskRepository } from "../../src/tasks/repository.ts";
import { ensureUsers } from "../support/database.ts";
import { type McpHttpHarness, startMcpHttpHarness } from "../support/mcp.ts";
import { databaseForFile } from "../support/suite.ts";

// Counts the per-request SDK servers the HTTP app builds: a call answered directly builds none.
vi.mock("../../src/mcp-server/server.ts", async (importOriginal) => {
  const original = await importOriginal<typeof import("../../src/mcp-server/server.ts")>();
  return { ...original, createMcpServer: vi.fn(original.createMcpServer) };
});

const USER = "fast-call-user";
const database = databaseForFile();
let direct: McpHttpHarness;
let sdk: McpHttpHarness;
const ids: Record<string, string> = {};

beforeAll(async () => {
  direct = await startMcpHttpHarness(database);
  sdk = await startMcpHttpHarness(database, { answerToolCallsDirectly: false });
  await ensureUsers(database, USER);
  // Tasks of every shape a result can carry; the calls below leave them as they are, so both apps see the same.
  const tasks = createTaskRepository(database.db).forUser({ id: USER, tz: "Europe/Berlin" });
  const add = async (name: string, input: Parameters<typeof tasks.add>[0]) => {
    ids[name] = (await tasks.add(input)).task.id;
  };
  await add("plain", { title: "plain" });
  await add("rich", {
    title: "read the article",
    notes: 'the part about "quotes" & <tags>',
    due: "every monday at 9",
    priority: "high",
    labels: ["reading", "#Later"],
    source: { url: "https://example.com/a?b=1", title: "An article", excerpt: "It begins…" },
    idempotencyKey: "capture-1",
  });
  await add("dateOnly", { title: "pay rent", due: "2099-12-01" });
  await add("done", { title: "done already" });
  await tasks.complete(ids.done!);
  await add("trashed", { title: "trashed" });
  await tasks.delete(ids.trashed!);
});
afterAll(async () => {
  await direct?.close();
  await sdk?.close();
});
beforeEach(() => {
  vi.mocked(createMcpServer).mockClear();
});

type Headers = Record<string, string | null>;

async function post(app: McpHttpHarness, body: unknown, extra: Headers = {}) {
  const headers: Headers = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    "mcp-protocol-version": "2025-11-25",
    authorization: `Bearer ${await app.token(USER, { tz: "Europe/Berlin" })}`,
    ...extra,
  };
  const res = await fetch(app.url, {
    method: "POST",
    // null: the header is not sent at all.
    headers: Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== null)) as Record<
      string,
      string
    >,
    body: JSON.stringify(body),
  });
  return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
}

/** Sends the same request to both apps; they must answer byte for byte alike. Returns how many servers it built. */
async function compare(body: unknown, headers?: Headers) {
  const expected = await post(sdk, body, headers);
  vi.mocked(createMcpServer).mockClear();
  const actual = await post(direct, body, headers);
  expect(actual).toEqual(expected);
  return vi.mocked(createMcpServer).mock.calls.length;
}

const toolCall = (name: string, args: Record<string, unknown>, id: string | number = 7) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: args },
});

describe("tool calls answered without a per-request SDK server", () => {
  it("answer exactly as the SDK does: results, no-ops and tool errors", async () => {
    const calls = [
      toolCall("list_tasks", {}),
      toolCall("list_tasks", { status: "all", limit: 2 }, "string-id"),
      toolCall("list_tasks", { status: "completed" }),
      toolCall("list_tasks", { status: "deleted" }),
      toolCall("list_tasks", { query: "article", due: "upcoming" }),
      toolCall("list_tasks", { cursor: "forged" }),
      toolCall("add_task", { title: "read the article", idempotency_key: "capture-1" }),
      toolCall("complete_task", { task_id: ids.done! }),
      toolCall("reopen_task", { task_id: ids.plain! }),
      toolCall("delete_task", { task_id: ids.trashed! }),
      toolCall("restore_task", { task_id: ids.rich! }),
      toolCall("complete_task", { task_id: "00000000-0000-4000-8000-000000000000" }),
      toolCall("update_task", { task_id: ids.plain! }),
      toolCall("update_task", { task_id: ids.dateOnly!, due: "when pigs fly" }),
      // Requests of other shapes the schemas accept: no arguments, id 0, a param the SDK ignores.
      { jsonrpc: "2.0", id: 0, method: "tools/call", params: { name: "list_tasks" } },
      { ...toolCall("list_tasks", {}, -3), params: { name: "list_tasks", arguments: {}, extra: 1 } },
    ];
    for (const call of calls) expect(await compare(call), JSON.stringify(call)).toBe(0);
    // Without the protocol-version header (a client before 2025-06-18), too.
    expect(await compare(toolCall("list_tasks", {}), { "mcp-protocol-version": null })).toBe(0);
  });

  it("leave everything else to the SDK, unchanged", async () => {
    const others: unknown[] = [
      { jsonrpc: "2.0", id: 1, method: "tools/list", params: {} },
      { jsonrpc: "2.0", id: 2, method: "ping" },
      toolCall("add_task", { title: 42 }),
      toolCall("no_such_tool", {}),
      {
        ...toolCall("list_tasks", {}),
        params: { name: "list_tasks", arguments: {}, _meta: { progressToken: 1 } },
      },
      [toolCall("list_tasks", {}, 1), toolCall("list_tasks", {}, 2)],
      // Not JSON-RPC requests: a key of no request, an id that is no safe integer.
      { ...toolCall("list_tasks", {}), extra: 1 },
      toolCall("list_tasks", {}, 2 ** 53),
      toolCall("list_tasks", {}, 1.5),
    ];
    for (const other of others) expect(await compare(other), JSON.stringify(other)).toBe(1);
  });
});
