import { randomUUID } from "node:crypto";
import { asc, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { connect, type Database, type Db } from "../../src/db/connect.ts";
import * as schema from "../../src/db/schema.ts";
import { taskChanges } from "../../src/db/task-schema.ts";
import { createTaskRepository } from "../../src/tasks/repository.ts";
import { ensureUsers, testDbKind } from "../support/database.ts";
import { databaseForFileWith } from "../support/suite.ts";
import { startSyncGateway } from "./harness.ts";
import type { SseStream } from "./sse-client.ts";

const { database, started: gateway } = databaseForFileWith(startSyncGateway);

const onPostgres = testDbKind === "postgres";
const newUser = async (name: string) => {
  const id = `${name}-${randomUUID().slice(0, 8)}`;
  await ensureUsers(database, id);
  return id;
};
const tasksOf = (db: Db, userId: string) => createTaskRepository(db).forUser({ id: userId, tz: "UTC" });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function ready(stream: SseStream): Promise<number> {
  const message = await stream.waitFor(
    () => stream.messages.find((m) => m.event === "ready"),
    3_000,
    "ready",
  );
  expect(message.id).toBe(JSON.parse(message.data).seq.toString());
  return Number(message.id);
}

/** Waits until the stream holds `count` changes, then checks their seqs and `id:` lines agree and ascend. */
async function changes(stream: SseStream, count: number, timeoutMs = 3_000) {
  await stream.waitFor(() => stream.changes().length >= count, timeoutMs, `${count} changes`);
  const got = stream.changes();
  const ids = stream.messages.filter((m) => m.event === "change").map((m) => Number(m.id));
  expect(ids).toEqual(got.map((c) => c.seq));
  for (let i = 1; i < got.length; i++) expect(got[i]!.seq).toBeGreaterThan(got[i - 1]!.seq);
  return got;
}

async function seqsInTable(userId: string): Promise<number[]> {
  const rows = await database.db
    .select({ seq: taskChanges.seq })
    .from(taskChanges)
    .where(eq(taskChanges.userId, userId))
    .orderBy(asc(taskChanges.seq));
  return rows.map((r) => r.seq);
}

describe("GET /api/changes", () => {
  it("delivers a write to every stream of the user within the same second, starting from now", async () => {
    const user = await newUser("alice");
    await tasksOf(database.db, user).add({ title: "old news" });
    const streams = [await gateway.stream(user), await gateway.stream(user)];
    for (const s of streams) {
      expect(s.status).toBe(200);
      expect(s.headers.get("content-type")).toBe("text/event-stream");
      expect(s.headers.get("cache-control")).toBe("no-cache, no-transform");
      expect(s.headers.get("x-accel-buffering")).toBe("no");
      // No resume point: the stream starts at the latest seq and says so.
      expect(await ready(s)).toBe((await seqsInTable(user)).at(-1));
    }

    const writtenAt = Date.now();
    const { task } = await tasksOf(database.db, user).add({ title: "buy milk" });
    for (const s of streams) {
      const [change] = await changes(s, 1, 1_000);
      expect(Date.now() - writtenAt).toBeLessThan(1_000);
      expect(change).toMatchObject({
        op: "created",
        task_id: task.id,
        task: { id: task.id, title: "buy milk" },
      });
      expect(Number.isNaN(Date.parse(change!.at))).toBe(false);
    }
    await sleep(100);
    for (const s of streams) expect(s.changes()).toHaveLength(1);
  });

  it("resumes from Last-Event-ID with exactly the missed changes, in order, then live ones", async () => {
    const user = await newUser("bea");
    const repo = tasksOf(database.db, user);
    const first = await gateway.stream(user);
    await ready(first);
    const { task: one } = await repo.add({ title: "one" });
    await repo.add({ title: "two" });
    await changes(first, 2);
    const lastId = first.messages.at(-1)!.id!;
    first.close();

    await repo.add({ title: "three" });
    await repo.complete(one.id);
    await repo.add({ title: "four" });
    // EventSource keeps the original `?after` on reconnect: the header must win over it.
    const again = await gateway.stream(user, { lastEventId: lastId, query: "?after=0" });
    expect(await ready(again)).toBe(Number(lastId));
    const missed = await changes(again, 3);
    expect(missed.map((c) => [c.op, c.task.title])).toEqual([
      ["created", "three"],
      ["completed", "one"],
      ["created", "four"],
    ]);

    await repo.add({ title: "five" });
    const all = await changes(again, 4);
    expect(all.at(-1)?.task.title).toBe("five");
    expect(all.map((c) => c.seq)).toEqual((await seqsInTable(user)).filter((s) => s > Number(lastId)));
    await sleep(100);
    expect(again.changes()).toHaveLength(4);
  });

  it("replays the whole history with ?after=0", async () => {
    const user = await newUser("cleo");
    const repo = tasksOf(database.db, user);
    for (const title of ["a", "b", "c"]) await repo.add({ title });
    const stream = await gateway.stream(user, { query: "?after=0" });
    const got = await changes(stream, 3);
    expect(got.map((c) => c.task.title)).toEqual(["a", "b", "c"]);
  });

  it("never carries another user's changes", async () => {
    const alice = await newUser("alice");
    const bob = await newUser("bob");
    const bobLive = await gateway.stream(bob);
    const aliceLive = await gateway.stream(alice);
    await Promise.all([ready(bobLive), ready(aliceLive)]);
    const repo = tasksOf(database.db, alice);
    const { task } = await repo.add({ title: "alice's secret" });
    await repo.update(task.id, { notes: "more secrets" });
    await changes(aliceLive, 2);
    // Catch-up is scoped too: Bob replaying all of history sees none of Alice's rows.
    const bobHistory = await gateway.stream(bob, { query: "?after=0" });
    await ready(bobHistory);
    await sleep(300);
    expect(bobLive.changes()).toEqual([]);
    expect(bobHistory.changes()).toEqual([]);
  });

  it("delivers every change once and in order while catch-up races live writes (small batches)", async () => {
    const user = await newUser("dora");
    const repo = tasksOf(database.db, user);
    const batched = await startSyncGateway(database, { batchLimit: 7 });
    try {
      for (let i = 0; i < 20; i++) await repo.add({ title: `before ${i}` });
      // One device writing quickly while another connects and pages through history.
      const writing = (async () => {
        for (let i = 0; i < 20; i++) await repo.add({ title: `during ${i}` });
      })();
      const streams = await Promise.all([
        batched.stream(user, { query: "?after=0" }),
        batched.stream(user, { query: "?after=0" }),
      ]);
      await writing;
      for (const s of streams) await changes(s, 40, 5_000);
      await sleep(200);
      const table = await seqsInTable(user);
      for (const s of streams) expect(s.changes().map((c) => c.seq)).toEqual(table);
    } finally {
      await batched.close();
    }
  });

  it("sends heartbeat comments", async () => {
    const fast = await startSyncGateway(database, { heartbeatMs: 50 });
    try {
      const stream = await fast.stream(await newUser("eve"));
      await stream.waitFor(() => stream.comments.filter((c) => c === "ping").length >= 2, 2_000, "pings");
    } finally {
      await fast.close();
    }
  });

  it("rejects a malformed resume point with 400", async () => {
    const cases: [Record<string, string>, string][] = [
      [{ "last-event-id": "abc" }, ""],
      [{ "last-event-id": "-1" }, ""],
      [{ "last-event-id": "1.5" }, ""],
      [{ "last-event-id": "99999999999999999999" }, ""],
      [{}, "?after=x"],
      [{}, "?after=1&after=2"],
    ];
    for (const [headers, query] of cases) {
      const res = await fetch(`${gateway.url}/api/changes${query}`, {
        headers: { "x-test-user": "frank", ...headers },
      });
      expect(res.status, JSON.stringify([headers, query])).toBe(400);
      const body = await res.json();
      expect(body.error.code).toBe("invalid_request");
      expect(typeof body.error.message).toBe("string");
    }
    const anonymous = await fetch(`${gateway.url}/api/changes`);
    expect(anonymous.status).toBe(401);
  });

  it("unsubscribes when the client goes away", async () => {
    const solo = await startSyncGateway(database);
    try {
      const stream = await solo.stream(await newUser("gus"));
      await ready(stream);
      expect(solo.feed.subscriberCount()).toBe(1);
      stream.close();
      const deadline = Date.now() + 3_000;
      while (solo.feed.subscriberCount() > 0 && Date.now() < deadline) await sleep(10);
      expect(solo.feed.subscriberCount()).toBe(0);
    } finally {
      await solo.close();
    }
  });

  it("ends open streams with a shutdown event when the feed closes", async () => {
    const doomed = await startSyncGateway(database);
    try {
      const stream = await doomed.stream(await newUser("hal"));
      await ready(stream);
      await doomed.feed.close();
      await stream.waitFor(() => stream.isEnded(), 3_000, "the stream to end");
      expect(stream.messages.at(-1)?.event).toBe("shutdown");
    } finally {
      await doomed.close();
    }
  });
});

describe.skipIf(!onPostgres)("across gateway instances (Postgres)", () => {
  it("delivers a write from a third connection through two gateways' feeds", async () => {
    const second = await connect({ kind: "postgres", url: database.url! });
    const writer = await connect({ kind: "postgres", url: database.url! });
    const other = await startSyncGateway(second);
    try {
      const user = await newUser("ivy");
      const streams = [await gateway.stream(user), await other.stream(user)];
      for (const s of streams) await ready(s);
      const { task } = await tasksOf(writer.db, user).add({ title: "from elsewhere" });
      for (const s of streams) {
        const [change] = await changes(s, 1, 1_000);
        expect(change?.task_id).toBe(task.id);
      }
    } finally {
      await other.close();
      await Promise.all([second.close(), writer.close()]);
    }
  });

  it("resyncs from the table after the listen connection is killed", async () => {
    const admin = postgres(database.url!, { max: 1, onnotice: () => {} });
    // Triggers don't fire under `session_replication_role = replica`: a write whose NOTIFY never comes,
    // exactly like one committed while the listener was down.
    const unannounced = postgres(database.url!, {
      max: 1,
      onnotice: () => {},
      connection: { session_replication_role: "replica" },
    });
    const silentDb: Database["db"] = drizzle(unannounced, { schema });
    try {
      const user = await newUser("jo");
      const stream = await gateway.stream(user);
      await ready(stream);
      const { task: lost } = await tasksOf(silentDb, user).add({ title: "never announced" });
      await sleep(300);
      expect(stream.changes()).toEqual([]);

      const listeners = () =>
        admin<{ pid: number }[]>`select pid from pg_stat_activity
          where application_name = 'margin-listen' and datname = current_database()`;
      const before = (await listeners()).map((r) => r.pid);
      expect(before.length).toBeGreaterThan(0);
      await admin`select pg_terminate_backend(pid) from pg_stat_activity
        where application_name = 'margin-listen' and datname = current_database()`;
      const { task: gap } = await tasksOf(database.db, user).add({ title: "written during the gap" });

      const got = await changes(stream, 2, 5_000);
      expect(got.map((c) => c.task_id)).toEqual([lost.id, gap.id]);
      const after = (await listeners()).map((r) => r.pid);
      expect(after.some((pid) => before.includes(pid))).toBe(false);

      // Live delivery works again on the new connection.
      await tasksOf(database.db, user).add({ title: "after" });
      expect((await changes(stream, 3)).at(-1)?.task.title).toBe("after");
    } finally {
      await Promise.all([admin.end(), unannounced.end()]);
    }
  });
});
