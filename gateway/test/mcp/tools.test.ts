import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { beforeEach, describe, expect, it } from "vitest";
import { call, connectInProcess, textOf } from "../support/mcp.ts";
import { databaseForFile } from "../support/suite.ts";

// Saturday evening in Berlin, the night the clocks go forward (2026-03-29 02:00 CET → 03:00 CEST).
let now = new Date("2026-03-28T20:00:00Z");
const clock = () => now;
const BERLIN = "Europe/Berlin";

const database = databaseForFile();
let client: Client;
let userSeq = 0;

beforeEach(async () => {
  now = new Date("2026-03-28T20:00:00Z");
  client = await connectInProcess(database, { id: `tools-user-${++userSeq}`, tz: BERLIN }, clock);
});

describe("add_task", () => {
  it("adds a task with every field and says what to do next", async () => {
    const result = await call(client, "add_task", {
      title: "Read the RFC",
      notes: "sections 3 and 4",
      due: "tomorrow 5pm",
      priority: "high",
      labels: ["#Work", "reading", "work"],
      source: { url: "https://example.com/rfc", title: "RFC 9728", excerpt: "Protected resource metadata" },
    });
    expect(result.isError).toBeFalsy();
    const task = result.structuredContent.task;
    expect(result.structuredContent.created).toBe(true);
    expect(task).toMatchObject({
      title: "Read the RFC",
      notes: "sections 3 and 4",
      status: "pending",
      priority: "high",
      labels: ["work", "reading"],
      source: { url: "https://example.com/rfc", title: "RFC 9728", excerpt: "Protected resource metadata" },
    });
    // 17:00 on the 29th is CEST (UTC+2), after the clocks changed overnight.
    expect(task.due).toMatchObject({
      at: "2026-03-29T15:00:00.000Z",
      date_only: false,
      tz: BERLIN,
      time: "17:00",
    });
    // The text names the task by the short id every tool accepts, and the zone its times are in.
    expect(textOf(result)).toContain(task.id.slice(0, 8));
    expect(textOf(result)).toContain("17:00");
    expect(textOf(result)).toContain(BERLIN);
    expect(result.structuredContent.extracted).toBeNull();
  });

  it("keeps a title exactly as typed unless asked to extract a due from it", async () => {
    for (const title of [
      "Meeting notes from 2 weeks ago",
      "Book flights for march 3 trip",
      "call mom tomorrow 5pm",
    ]) {
      const result = await call(client, "add_task", { title });
      expect(result.structuredContent).toMatchObject({ task: { title, due: null }, extracted: null });
    }
  });

  it("with extract_due, takes the due phrase from the title and says what it took", async () => {
    const result = await call(client, "add_task", { title: "call mom tomorrow 5pm", extract_due: true });
    expect(result.structuredContent.task.title).toBe("call mom");
    expect(result.structuredContent.task.due.at).toBe("2026-03-29T15:00:00.000Z");
    expect(result.structuredContent.extracted).toEqual({
      phrase: "tomorrow 5pm",
      title_before: "call mom tomorrow 5pm",
    });
    expect(textOf(result)).toContain('"tomorrow 5pm"');
    // A phrase about the past is not a due: the title stays whole and undated.
    const past = await call(client, "add_task", {
      title: "Meeting notes from 2 weeks ago",
      extract_due: true,
    });
    expect(past.structuredContent).toMatchObject({
      task: { title: "Meeting notes from 2 weeks ago", due: null },
      extracted: null,
    });
    const both = await call(client, "add_task", { title: "x friday", due: "monday", extract_due: true });
    expect(both.isError).toBe(true);
    expect(textOf(both)).toMatch(/either due or extract_due/);
  });

  it("refuses a due in the past with a message that says so; today and earlier today are fine", async () => {
    for (const due of ["yesterday", "2 weeks ago", "2026-03-27", "last friday"]) {
      const result = await call(client, "add_task", { title: "late", due });
      expect(result.isError, due).toBe(true);
      expect(textOf(result), due).toMatch(/in the past/);
      expect(result.structuredContent.error.code).toBe("invalid_input");
    }
    for (const due of ["today", "today 9am", "2026-03-28T08:00", "tonight"]) {
      const result = await call(client, "add_task", { title: "now", due });
      expect(result.isError, due).toBeFalsy();
      expect(result.structuredContent.task.due.date, due).toBe("2026-03-28");
    }
    expect((await call(client, "list_tasks", { query: "late" })).structuredContent.tasks).toEqual([]);
  });

  it("keeps a date-only due as a date", async () => {
    const result = await call(client, "add_task", { title: "standup", due: "next friday" });
    expect(result.structuredContent.task.due).toMatchObject({
      date: "2026-04-03",
      date_only: true,
      time: null,
    });
  });

  it("answers an unreadable due phrase with an isError that says what to write", async () => {
    const result = await call(client, "add_task", { title: "x", due: "when pigs fly" });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/tomorrow 5pm/);
    expect(result.structuredContent.error.code).toBe("invalid_input");
  });

  it("refuses an empty title and a too-long one with a clear message", async () => {
    const empty = await call(client, "add_task", { title: "   " });
    expect(empty.isError).toBe(true);
    expect(textOf(empty)).toMatch(/title/);
    const long = await call(client, "add_task", { title: "x".repeat(501) });
    expect(long.isError).toBe(true);
    expect(textOf(long)).toMatch(/500 characters/);
  });

  it("returns the same task for the same idempotency key, even under concurrent retries", async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        call(client, "add_task", { title: "capture", idempotency_key: "k-1" }),
      ),
    );
    const ids = new Set(results.map((r) => r.structuredContent.task.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.structuredContent.created)).toHaveLength(1);
    const list = await call(client, "list_tasks", { query: "capture" });
    expect(list.structuredContent.tasks).toHaveLength(1);
  });
});

describe("add_task idempotency keys", () => {
  it("refuses a key reused with a different request, and replays an identical one", async () => {
    const first = await call(client, "add_task", {
      title: "capture",
      due: "tomorrow",
      idempotency_key: "k-2",
    });
    expect(first.structuredContent.created).toBe(true);
    const same = await call(client, "add_task", {
      title: "capture",
      due: "tomorrow",
      idempotency_key: "k-2",
    });
    expect(same.structuredContent).toMatchObject({
      created: false,
      task: { id: first.structuredContent.task.id },
    });
    for (const changed of [
      { title: "another capture" },
      { title: "capture", due: "friday" },
      { title: "capture", due: "tomorrow", priority: "high" },
      { title: "capture", due: "tomorrow", source: { url: "https://example.com/other" } },
    ]) {
      const reused = await call(client, "add_task", { ...changed, idempotency_key: "k-2" });
      expect(reused.isError, JSON.stringify(changed)).toBe(true);
      expect(reused.structuredContent.error.code).toBe("idempotency_conflict");
      expect(textOf(reused)).toMatch(/already used for a different request/);
    }
    const all = await call(client, "list_tasks", { status: "all" });
    expect(all.structuredContent.tasks.map((t: { title: string }) => t.title)).toEqual(["capture"]);
  });

  it("replays a retry whose due has passed since it was first sent", async () => {
    const first = await call(client, "add_task", {
      title: "today's capture",
      due: "today",
      idempotency_key: "k-3",
    });
    now = new Date("2026-03-30T08:00:00Z"); // two days later, "today" of the first send is in the past
    const retry = await call(client, "add_task", {
      title: "today's capture",
      due: "today",
      idempotency_key: "k-3",
    });
    expect(retry.isError).toBeFalsy();
    expect(retry.structuredContent).toMatchObject({
      created: false,
      task: { id: first.structuredContent.task.id },
    });
    const fresh = await call(client, "add_task", {
      title: "late",
      due: "2026-03-28",
      idempotency_key: "k-4",
    });
    expect(textOf(fresh)).toMatch(/in the past/);
  });
});

describe("list_tasks", () => {
  it("lists pending tasks soonest first, undated last", async () => {
    await call(client, "add_task", { title: "undated" });
    await call(client, "add_task", { title: "later", due: "in 3 days" });
    await call(client, "add_task", { title: "sooner", due: "in 2 hours" });
    const result = await call(client, "list_tasks");
    expect(result.structuredContent.tasks.map((t: { title: string }) => t.title)).toEqual([
      "sooner",
      "later",
      "undated",
    ]);
    expect(textOf(result)).toContain("sooner");
  });

  it("filters by due: overdue, today, upcoming, none", async () => {
    await call(client, "add_task", { title: "in an hour", due: "in 1 hour" });
    await call(client, "add_task", { title: "today, date only", due: "today" });
    await call(client, "add_task", { title: "next week", due: "in 7 days" });
    await call(client, "add_task", { title: "no date" });
    now = new Date("2026-03-28T21:30:00Z"); // 22:30 in Berlin: the timed task has passed, the day has not
    const titles = async (due: string) =>
      (await call(client, "list_tasks", { due })).structuredContent.tasks.map(
        (t: { title: string }) => t.title,
      );
    expect(await titles("overdue")).toEqual(["in an hour"]);
    // A date-only due sits at the start of its day, so it sorts before today's timed tasks.
    expect(await titles("today")).toEqual(["today, date only", "in an hour"]);
    expect(await titles("upcoming")).toEqual(["next week"]);
    expect(await titles("none")).toEqual(["no date"]);
    now = new Date("2026-03-29T08:00:00Z"); // next morning: yesterday's date-only task is now overdue too
    expect((await titles("overdue")).sort()).toEqual(["in an hour", "today, date only"]);
  });

  it("searches title and notes, treating % and _ literally", async () => {
    await call(client, "add_task", { title: "Buy milk", notes: "oat" });
    await call(client, "add_task", { title: "Pay 100% of rent" });
    await call(client, "add_task", { title: "Walk", notes: "with OAT bar" });
    const oat = await call(client, "list_tasks", { query: "oat" });
    expect(oat.structuredContent.tasks.map((t: { title: string }) => t.title).sort()).toEqual([
      "Buy milk",
      "Walk",
    ]);
    const percent = await call(client, "list_tasks", { query: "100%" });
    expect(percent.structuredContent.tasks.map((t: { title: string }) => t.title)).toEqual([
      "Pay 100% of rent",
    ]);
  });

  it("searches with terms shorter than a trigram, accents and case, and pages through the matches", async () => {
    await call(client, "add_task", { title: "Café au lait", notes: "" });
    await call(client, "add_task", { title: "Book CAFÉ table" });
    await call(client, "add_task", { title: "Ox", notes: "" });
    for (let i = 0; i < 7; i++) await call(client, "add_task", { title: `Read chapter ${i}` });
    const titles = async (args: Record<string, unknown>) =>
      (await call(client, "list_tasks", args)).structuredContent.tasks.map((t: { title: string }) => t.title);
    expect((await titles({ query: "café" })).sort()).toEqual(["Book CAFÉ table", "Café au lait"]);
    expect(await titles({ query: "x" })).toEqual(["Ox"]);
    expect(await titles({ query: "zz" })).toEqual([]);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await call(client, "list_tasks", {
        query: "chapter",
        limit: 3,
        ...(cursor ? { cursor } : {}),
      });
      seen.push(...page.structuredContent.tasks.map((t: { title: string }) => t.title));
      cursor = page.structuredContent.next_cursor ?? undefined;
    } while (cursor);
    expect(seen.sort()).toEqual(Array.from({ length: 7 }, (_, i) => `Read chapter ${i}`));
  });

  it("pages through every task exactly once with the cursor", async () => {
    for (let i = 0; i < 23; i++) {
      await call(client, "add_task", { title: `task ${i}`, ...(i % 3 === 0 ? {} : { due: `in ${i} days` }) });
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await call(client, "list_tasks", { limit: 5, ...(cursor ? { cursor } : {}) });
      seen.push(...page.structuredContent.tasks.map((t: { id: string }) => t.id));
      cursor = page.structuredContent.next_cursor ?? undefined;
      if (cursor) expect(textOf(page)).toContain(cursor);
    } while (cursor);
    expect(seen).toHaveLength(23);
    expect(new Set(seen).size).toBe(23);
  });

  it("rejects a forged cursor with a message, not a crash", async () => {
    const forged = Buffer.from(JSON.stringify(["due", "'; drop table tasks; --", 1, "x"])).toString(
      "base64url",
    );
    const result = await call(client, "list_tasks", { cursor: forged });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/cursor/);
    expect((await call(client, "list_tasks")).isError).toBeFalsy();
  });
});

describe("complete, reopen, update, delete, restore", () => {
  it("completes and reopens a task, idempotently", async () => {
    const { task } = (await call(client, "add_task", { title: "ship it" })).structuredContent;
    const done = await call(client, "complete_task", { task_id: task.id });
    expect(done.structuredContent).toMatchObject({ changed: true, task: { status: "completed" } });
    expect(done.structuredContent.task.completed_at).toBe(now.toISOString());
    const again = await call(client, "complete_task", { task_id: task.id });
    expect(again.structuredContent.changed).toBe(false);
    expect((await call(client, "list_tasks", { status: "completed" })).structuredContent.tasks).toHaveLength(
      1,
    );
    const reopened = await call(client, "reopen_task", { task_id: task.id });
    expect(reopened.structuredContent).toMatchObject({
      changed: true,
      task: { status: "pending", completed_at: null },
    });
  });

  it("moves a repeating task to its next occurrence when completed, across the DST change", async () => {
    now = new Date("2027-03-22T09:30:00Z"); // Monday 10:30 CET
    const { task } = (await call(client, "add_task", { title: "weekly review", due: "every monday at 9" }))
      .structuredContent;
    expect(task.due.at).toBe("2027-03-29T07:00:00.000Z"); // next Monday 09:00, already CEST
    expect(task.due.repeat).toBeTruthy();
    const done = await call(client, "complete_task", { task_id: task.id });
    expect(done.structuredContent.task).toMatchObject({
      status: "pending",
      due: { at: "2027-04-05T07:00:00.000Z" },
    });
    expect(textOf(done)).toMatch(/next/i);
  });

  it("keeps the repeat rule when a repeating task is rescheduled", async () => {
    now = new Date("2027-03-22T09:30:00Z");
    const { task } = (await call(client, "add_task", { title: "review", due: "every monday at 9" }))
      .structuredContent;
    const moved = await call(client, "update_task", { task_id: task.id, due: "tuesday 10am" });
    expect(moved.structuredContent.task.due).toMatchObject({
      at: "2027-03-23T09:00:00.000Z",
      rrule: task.due.rrule,
    });
    const done = await call(client, "complete_task", { task_id: task.id });
    expect(done.structuredContent.task.due.at).toBe("2027-03-29T07:00:00.000Z");
  });

  it("updates only the given fields and clears the due date with null", async () => {
    const { task } = (
      await call(client, "add_task", { title: "draft", notes: "n", due: "tomorrow", labels: ["a"] })
    ).structuredContent;
    const updated = await call(client, "update_task", {
      task_id: task.id,
      title: "final",
      labels: ["b", "c"],
    });
    expect(updated.structuredContent.task).toMatchObject({ title: "final", notes: "n", labels: ["b", "c"] });
    expect(updated.structuredContent.task.due).not.toBeNull();
    const cleared = await call(client, "update_task", { task_id: task.id, due: null });
    expect(cleared.structuredContent.task.due).toBeNull();
    const nothing = await call(client, "update_task", { task_id: task.id });
    expect(nothing.isError).toBe(true);
    expect(textOf(nothing)).toMatch(/Nothing to change/);
  });

  it("sets the priority with update_task", async () => {
    const { task } = (await call(client, "add_task", { title: "p" })).structuredContent;
    const result = await call(client, "update_task", { task_id: task.id, priority: "low" });
    expect(result.structuredContent.task.priority).toBe("low");
    expect(textOf(result)).toContain("low");
    const bad = await call(client, "update_task", { task_id: task.id, priority: "urgent" });
    expect(bad.isError).toBe(true);
  });

  it("accepts the short id the texts print, or any longer prefix, in every tool", async () => {
    const { task } = (await call(client, "add_task", { title: "short" })).structuredContent;
    const short = task.id.slice(0, 8);
    expect(textOf(await call(client, "list_tasks"))).toContain(`${short} "short"`);
    expect((await call(client, "complete_task", { task_id: short })).structuredContent.changed).toBe(true);
    expect(
      (await call(client, "reopen_task", { task_id: task.id.slice(0, 13) })).structuredContent.changed,
    ).toBe(true);
    const updated = await call(client, "update_task", { task_id: short.toUpperCase(), title: "shorter" });
    expect(updated.structuredContent.task).toMatchObject({ id: task.id, title: "shorter" });
    expect((await call(client, "delete_task", { task_id: short })).structuredContent.changed).toBe(true);
    expect((await call(client, "restore_task", { task_id: short })).structuredContent.changed).toBe(true);
    const tooShort = await call(client, "complete_task", { task_id: task.id.slice(0, 7) });
    expect(tooShort.isError).toBe(true);
    expect(tooShort.structuredContent.error.code).toBe("not_found");
  });

  it("soft-deletes into the trash and restores", async () => {
    const { task } = (await call(client, "add_task", { title: "oops" })).structuredContent;
    const deleted = await call(client, "delete_task", { task_id: task.id });
    expect(deleted.structuredContent.task).toMatchObject({ status: "deleted" });
    expect(deleted.structuredContent.task.deleted_at).not.toBeNull();
    expect(textOf(deleted)).toMatch(/restored/);
    expect((await call(client, "list_tasks", { status: "all" })).structuredContent.tasks).toHaveLength(0);
    const trash = await call(client, "list_tasks", { status: "deleted" });
    expect(
      trash.structuredContent.tasks.map((t: { id: string; status: string }) => [t.id, t.status]),
    ).toEqual([[task.id, "deleted"]]);
    const blocked = await call(client, "update_task", { task_id: task.id, title: "edited in the trash" });
    expect(blocked.structuredContent.changed).toBe(false);
    const restored = await call(client, "restore_task", { task_id: task.id });
    expect(restored.structuredContent.task).toMatchObject({
      deleted_at: null,
      title: "oops",
      status: "pending",
    });
    expect((await call(client, "list_tasks")).structuredContent.tasks).toHaveLength(1);
  });

  it("says a task id is unknown, and how to find the right one", async () => {
    for (const name of ["complete_task", "reopen_task", "delete_task", "restore_task"]) {
      const result = await call(client, name, { task_id: "6f1c1f4e-1d2b-4c3a-9f00-000000000000" });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/list_tasks/);
      expect(result.structuredContent.error.code).toBe("not_found");
    }
    const malformed = await call(client, "complete_task", { task_id: "not-an-id" });
    expect(malformed.isError).toBe(true);
    expect(textOf(malformed)).toMatch(/list_tasks/);
  });
});
