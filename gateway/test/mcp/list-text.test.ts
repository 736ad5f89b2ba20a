import { countTokens } from "gpt-tokenizer";
import { describe, expect, it } from "vitest";
import { call, connectInProcess, textOf } from "../support/mcp.ts";
import { databaseForFile } from "../support/suite.ts";

// What a model reads of a list: the tool's text, measured with a real tokenizer (o200k, GPT-4o/5).
const now = new Date("2026-11-28T09:00:00Z");
const clock = () => now;

const database = databaseForFile();

// Tasks as people write them: short and long titles, dated or not, repeating, with priorities and labels.
const TASKS: Record<string, unknown>[] = [
  { title: "Buy milk" },
  { title: "Call the dentist about the crown", due: "tomorrow 9am", priority: "high" },
  { title: "Read the RFC on protected resource metadata", due: "next friday", labels: ["reading"] },
  { title: "Water the plants", due: "every monday at 9" },
  { title: "Standup", due: "every weekday at 9:30", labels: ["work"] },
  { title: "Pay rent", due: "2026-12-01", priority: "high", labels: ["home", "money"] },
  { title: "Renew passport before the trip to Lisbon in spring", due: "jan 27 9:30am" },
  { title: "Review Anna's pull request on the sync retry logic", due: "in 2 hours", labels: ["work"] },
  { title: "Book flights for march 3 trip", priority: "low" },
  { title: "Meeting notes from 2 weeks ago" },
  { title: "Send the quarterly report to finance", due: "dec 15 5pm", priority: "high", labels: ["work"] },
  { title: "Take out the recycling", due: "every 2 weeks" },
  { title: "Write thank-you cards", due: "this weekend" },
  { title: "Look into https://example.com/articles/how-to-keep-a-task-list-that-you-actually-use" },
  { title: "Fix the squeaky door hinge", labels: ["home"] },
  { title: "Prepare slides for Thursday's talk on offline-first sync", due: "thursday 2pm" },
  { title: "Cancel the gym membership", due: "in 3 days", priority: "low" },
  { title: "Buy a birthday present for Sam", due: "dec 10" },
  { title: "Backup the laptop", due: "every month on the 1st" },
  { title: "Reply to Jordan", due: "today 6pm" },
];

describe("list_tasks text", () => {
  it("costs a model at most about 40 tokens per task", async () => {
    const client = await connectInProcess(database, { id: "tokens", tz: "Europe/Berlin" }, clock);
    for (const args of TASKS) expect((await call(client, "add_task", args)).isError).toBeFalsy();
    const text = textOf(await call(client, "list_tasks", { limit: 50 }));
    const lines = text.split("\n").filter((l) => l.startsWith("- "));
    expect(lines).toHaveLength(TASKS.length);
    const perTask = lines.map((l) => countTokens(l));
    const average = countTokens(text) / lines.length; // the header included
    expect(average).toBeLessThanOrEqual(40);
    // Even a long title, dated, repeating, labelled task stays near the budget (titles are clipped in texts).
    expect(Math.max(...perTask)).toBeLessThanOrEqual(48);
  });

  it("shows every due in the user's current zone after a move, naming the zone once", async () => {
    const inUtc = await connectInProcess(database, { id: "mover", tz: "UTC" }, clock);
    await call(inUtc, "add_task", { title: "timed", due: "2026-12-01T17:00" });
    await call(inUtc, "add_task", { title: "date only", due: "2026-12-02" });
    // The user moves to Berlin: the same tasks, listed in the new zone.
    const inBerlin = await connectInProcess(database, { id: "mover", tz: "Europe/Berlin" }, clock);
    await call(inBerlin, "add_task", { title: "after the move", due: "2026-12-01T09:00" });
    const result = await call(inBerlin, "list_tasks");
    const text = textOf(result);
    expect(text).toContain("Today is Sat 2026-11-28; times are Europe/Berlin.");
    expect(text).not.toContain("UTC");
    expect(text).toMatch(/"after the move" · due 2026-12-01 09:00/);
    expect(text).toMatch(/"timed" · due 2026-12-01 18:00/); // 17:00 UTC is 18:00 in Berlin
    expect(text).toMatch(/"date only" · due 2026-12-02\n|"date only" · due 2026-12-02$/); // a date stays its date
    const zones = result.structuredContent.tasks.map((t: { due: { tz: string } }) => t.due.tz);
    expect(new Set(zones)).toEqual(new Set(["Europe/Berlin"]));
    const timed = result.structuredContent.tasks.find((t: { title: string }) => t.title === "timed");
    expect(timed.due).toMatchObject({ at: "2026-12-01T17:00:00.000Z", date: "2026-12-01", time: "18:00" });
  });

  it("prints short ids, while structuredContent keeps the full ones", async () => {
    const client = await connectInProcess(database, { id: "ids", tz: "UTC" }, clock);
    const { task } = (await call(client, "add_task", { title: "find me" })).structuredContent;
    const result = await call(client, "list_tasks");
    expect(textOf(result)).toContain(`- ${task.id.slice(0, 8)} "find me"`);
    expect(textOf(result)).not.toContain(task.id);
    expect(result.structuredContent.tasks[0].id).toBe(task.id);
  });
});
