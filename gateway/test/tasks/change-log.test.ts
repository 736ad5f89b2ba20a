import { eq } from "drizzle-orm";
import postgres from "postgres";
import { beforeAll, describe, expect, it } from "vitest";
import { taskChanges, tasks } from "../../src/db/task-schema.ts";
import { createTaskRepository } from "../../src/tasks/repository.ts";
import { type TaskView, toTaskView } from "../../src/tasks/view.ts";
import { ensureUsers, testDbKind } from "../support/database.ts";
import { databaseForFile } from "../support/suite.ts";

const database = databaseForFile();
beforeAll(async () => {
  await ensureUsers(
    database,
    "log-user",
    "failing-user",
    "race-user",
    "notify-user",
    "order-user",
    "someone-else",
  );
});

const DAY_MS = 24 * 60 * 60 * 1000;

const changesOf = (userId: string) =>
  database.db.select().from(taskChanges).where(eq(taskChanges.userId, userId)).orderBy(taskChanges.seq);

describe("change log", () => {
  it("records every write once, in order, with the task as it became", async () => {
    const mine = createTaskRepository(database.db).forUser({ id: "log-user", tz: "UTC" });
    const { task } = await mine.add({ title: "a" });
    await mine.update(task.id, { title: "b" });
    await mine.complete(task.id);
    await mine.complete(task.id); // no-op: already done
    await mine.reopen(task.id);
    await mine.delete(task.id);
    await mine.delete(task.id); // no-op: already deleted
    await mine.restore(task.id);
    const log = await changesOf("log-user");
    expect(log.map((c) => c.op)).toEqual([
      "created",
      "updated",
      "completed",
      "reopened",
      "deleted",
      "restored",
    ]);
    expect(log.every((c) => c.taskId === task.id)).toBe(true);
    expect(log.map((c) => (c.task as { title: string }).title)).toEqual(["a", "b", "b", "b", "b", "b"]);
    expect((log[2]!.task as { status: string }).status).toBe("completed");
  });

  it("writes nothing when the write fails", async () => {
    const mine = createTaskRepository(database.db).forUser({ id: "failing-user", tz: "UTC" });
    await expect(mine.add({ title: "x", due: "when pigs fly" })).rejects.toThrow(/due date/);
    expect(await changesOf("failing-user")).toEqual([]);
    expect(await database.db.select().from(tasks).where(eq(tasks.userId, "failing-user"))).toEqual([]);
  });

  it("applies concurrent writes to one task one after another: none lost, each logged as the row it made", async () => {
    const mine = createTaskRepository(database.db).forUser({ id: "race-user", tz: "UTC" });
    const { task } = await mine.add({ title: "water plants", due: "every day at 9" });
    const completions = 8;
    await Promise.all([
      ...Array.from({ length: completions }, () => mine.complete(task.id)),
      mine.update(task.id, { title: "water the plants" }),
      mine.update(task.id, { priority: "high" }),
      mine.update(task.id, { labels: ["home"] }),
    ]);

    const stored = await mine.get(task.id);
    expect(stored).toMatchObject({ title: "water the plants", priority: "high", labels: ["home"] });
    const log = await changesOf("race-user");
    expect(log).toHaveLength(1 + completions + 3);
    expect(log.at(-1)!.task).toEqual(toTaskView(stored, "UTC"));
    // Each completion moved the task on by one more day than the one before it.
    const dues = log
      .filter((c) => c.op === "completed")
      .map((c) => Date.parse((c.task as TaskView).due!.at))
      .sort((a, b) => a - b);
    expect(dues.slice(1).map((due, i) => due - dues[i]!)).toEqual(Array(completions - 1).fill(DAY_MS));
    expect(stored.dueAt!.getTime()).toBe(dues.at(-1));
  });

  it("announces a change after commit with ids only", async () => {
    const payloads: string[] = [];
    const unlisten = await database.listen("task_changes", (p) => payloads.push(p));
    try {
      const mine = createTaskRepository(database.db).forUser({ id: "notify-user", tz: "UTC" });
      const { task } = await mine.add({ title: "secret title", notes: "secret notes" });
      const deadline = Date.now() + 5000;
      while (!payloads.some((p) => p.includes(task.id)) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      const payload = JSON.parse(payloads.find((p) => p.includes(task.id))!);
      expect(Object.keys(payload).sort()).toEqual(["seq", "task_id", "user_id"]);
      expect(payload).toMatchObject({ task_id: task.id, user_id: "notify-user" });
      expect(payloads.join()).not.toContain("secret");
    } finally {
      await unlisten();
    }
  });

  // Readers resume "after seq N"; a lower seq committing later would be skipped for good.
  it.skipIf(testDbKind !== "postgres")("makes one user's change-log seqs commit in order", async () => {
    const sql = postgres(database.url!, { max: 3, onnotice: () => {} });
    try {
      const insert = (tx: postgres.TransactionSql, user: string) =>
        tx`insert into task_changes (user_id, task_id, op, task) values (${user}, gen_random_uuid(), 'created', '{}') returning seq`;
      let releaseFirst!: () => void;
      const firstHolds = new Promise<void>((r) => (releaseFirst = r));
      let firstSeq = 0;
      const first = sql.begin(async (tx) => {
        firstSeq = Number((await insert(tx, "order-user"))[0]!.seq);
        await firstHolds; // still uncommitted while the second write starts
      });
      await new Promise((r) => setTimeout(r, 100));
      let secondSeq = 0;
      const second = sql.begin(async (tx) => {
        secondSeq = Number((await insert(tx, "order-user"))[0]!.seq);
      });
      // Another user's writes don't wait.
      await sql.begin((tx) => insert(tx, "someone-else"));
      await new Promise((r) => setTimeout(r, 100));
      expect(secondSeq).toBe(0);
      releaseFirst();
      await Promise.all([first, second]);
      expect(secondSeq).toBeGreaterThan(firstSeq);
    } finally {
      await sql.end();
    }
  });
});
