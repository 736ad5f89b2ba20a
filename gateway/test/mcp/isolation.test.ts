import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, type McpHttpHarness, startMcpHttpHarness, textOf } from "../support/mcp.ts";
import { databaseForFile } from "../support/suite.ts";

const database = databaseForFile();
let mcp: McpHttpHarness;
let alice: Client;
let bob: Client;
let aliceTaskIds: { pending: string; completed: string; deleted: string };

beforeAll(async () => {
  mcp = await startMcpHttpHarness(database);
  alice = await mcp.connect("alice");
  bob = await mcp.connect("bob");
  const add = async (title: string) =>
    (await call(alice, "add_task", { title })).structuredContent.task.id as string;
  aliceTaskIds = {
    pending: await add("alice secret"),
    completed: await add("alice done"),
    deleted: await add("alice trash"),
  };
  await call(alice, "complete_task", { task_id: aliceTaskIds.completed });
  await call(alice, "delete_task", { task_id: aliceTaskIds.deleted });
});
afterAll(async () => {
  await alice?.close();
  await bob?.close();
  await mcp?.close();
});

const UNKNOWN_ID = "0b5a3c1e-7d2f-4e8a-9b6c-112233445566";

describe("user isolation", () => {
  it("never lists another user's tasks, with any filter", async () => {
    for (const status of ["all", "pending", "completed", "deleted"]) {
      const result = await call(bob, "list_tasks", { status, query: "alice" });
      expect(result.structuredContent.tasks).toEqual([]);
    }
  });

  it("answers every action on another user's task exactly like an unknown id", async () => {
    const attempts: [string, Record<string, unknown>][] = [
      ["complete_task", { task_id: aliceTaskIds.pending }],
      ["reopen_task", { task_id: aliceTaskIds.completed }],
      ["update_task", { task_id: aliceTaskIds.pending, title: "pwned" }],
      ["update_task", { task_id: aliceTaskIds.pending, priority: "high" }],
      ["complete_task", { task_id: aliceTaskIds.pending.slice(0, 8) }],
      ["update_task", { task_id: aliceTaskIds.pending.slice(0, 8), title: "pwned" }],
      ["delete_task", { task_id: aliceTaskIds.pending }],
      ["restore_task", { task_id: aliceTaskIds.deleted }],
    ];
    for (const [name, args] of attempts) {
      const theirs = await call(bob, name, args);
      const unknown = await call(bob, name, { ...args, task_id: UNKNOWN_ID });
      expect(theirs.isError, name).toBe(true);
      expect(theirs.structuredContent.error.code).toBe("not_found");
      // Same words as for an id that does not exist: no hint that the task is there.
      expect(textOf(theirs).replace(String(args.task_id), "ID"), name).toBe(
        textOf(unknown).replace(UNKNOWN_ID, "ID"),
      );
      expect(textOf(theirs)).not.toContain("alice");
    }
    const all = await call(alice, "list_tasks", { status: "all" });
    expect(
      all.structuredContent.tasks.map((t: { title: string; priority: string }) => [t.title, t.priority]),
    ).toEqual([
      ["alice secret", "medium"],
      ["alice done", "medium"],
    ]);
    const trash = await call(alice, "list_tasks", { status: "deleted" });
    expect(trash.structuredContent.tasks.map((t: { id: string }) => t.id)).toEqual([aliceTaskIds.deleted]);
  });

  it("resolves a short id among the caller's own tasks only", async () => {
    // Two users' tasks, and two of carol's, share a prefix: ids are random, so the test places them.
    const prefix = "abcdef01";
    const insert = (id: string, user: string, title: string) =>
      database.db.execute(
        sql`insert into tasks (id, user_id, title, position) values (${id}::uuid, ${user}, ${title}, 1)`,
      );
    await insert(`${prefix}-0000-4000-8000-000000000001`, "alice", "alice twin");
    await insert(`${prefix}-0000-4000-8000-000000000002`, "bob", "bob twin");
    const mine = await call(bob, "complete_task", { task_id: prefix });
    expect(mine.structuredContent.task).toMatchObject({ title: "bob twin", status: "completed" });
    await insert(`${prefix}-0000-4000-8000-000000000003`, "bob", "bob twin 2");
    const ambiguous = await call(bob, "reopen_task", { task_id: prefix });
    expect(ambiguous.isError).toBe(true);
    expect(textOf(ambiguous)).toMatch(/More than one task/);
    expect(textOf(ambiguous)).not.toContain("alice");
  });

  it("keeps idempotency keys per user: the same key makes a separate task for each", async () => {
    const a = await call(alice, "add_task", { title: "shared key", idempotency_key: "device-capture-1" });
    const b = await call(bob, "add_task", { title: "shared key", idempotency_key: "device-capture-1" });
    expect(b.structuredContent.created).toBe(true);
    expect(b.structuredContent.task.id).not.toBe(a.structuredContent.task.id);
  });

  it("ignores any user id smuggled into tool arguments", async () => {
    const result = await call(bob, "add_task", { title: "mine", user_id: "alice", userId: "alice" });
    expect(result.isError).toBeFalsy();
    const aliceList = await call(alice, "list_tasks", { query: "mine" });
    expect(aliceList.structuredContent.tasks).toEqual([]);
  });
});
