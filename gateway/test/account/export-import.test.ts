import { request } from "node:http";
import { beforeAll, describe, expect, it } from "vitest";
import { TODOIST_COLUMNS } from "../../src/account/csv.ts";
import { chatItems } from "../../src/db/chat-schema.ts";
import { gatewayForFile } from "../support/gateway-for-file.ts";
import { addChatThread, addTask, type Person, person } from "./support.ts";

const { database, gw } = gatewayForFile();
let alice: Person;
const ids: Record<string, string> = {};

beforeAll(async () => {
  alice = await person(gw, database, "alice");
  ids.weekly = (
    await addTask(gw, alice, {
      title: '=standup, with "quotes"',
      notes: "line one\nline two",
      due: "every monday at 9",
      priority: "high",
      labels: ["work", "daily"],
      source: { url: "https://example.com/a?b=1", title: "An article", excerpt: "It begins" },
    })
  ).id;
  ids.rent = (await addTask(gw, alice, { title: "pay rent", due: "2099-12-01", priority: "low" })).id;
  ids.call = (await addTask(gw, alice, { title: "call bob", due: "2099-06-01T15:30:00Z" })).id;
  ids.done = (await addTask(gw, alice, { title: "done already" })).id;
  await gw.api(`/api/tasks/${ids.done}/complete`, alice.token, { method: "POST" });
  ids.trashed = (await addTask(gw, alice, { title: "trashed" })).id;
  await gw.api(`/api/tasks/${ids.trashed}`, alice.token, { method: "DELETE" });
  await addChatThread(database, alice, "planning");
});

type TaskView = {
  id: string;
  title: string;
  notes: string;
  status: string;
  priority: string;
  labels: string[];
  due: { date: string; time: string | null; rrule: string | null; phrase: string | null } | null;
  source: { url: string | null } | null;
};
type Export = {
  format: string;
  version: number;
  user: { email: string };
  tasks: TaskView[];
  chat: { threads: { title: string; items: { type: string }[] }[] };
};

const exportOf = async (who: Person) => {
  const res = await gw.api("/api/export", who.token);
  expect(res.status).toBe(200);
  return (await res.json()) as Export;
};

/** Every task of the user, trash included, as the REST API lists them. */
async function allTasks(who: Person): Promise<TaskView[]> {
  const list = async (status: string) =>
    (
      (await (await gw.api(`/api/tasks?status=${status}&limit=200`, who.token)).json()) as {
        tasks: TaskView[];
      }
    ).tasks;
  return [...(await list("all")), ...(await list("deleted"))];
}

const importFile = (who: Person, body: string, type: string) =>
  gw.api("/api/import", who.token, { method: "POST", body, headers: { "content-type": type } });

describe("GET /api/export", () => {
  it("downloads every task (done and deleted too) with its details, and the chats, as JSON", async () => {
    const res = await gw.api("/api/export", alice.token);
    expect(res.headers.get("content-disposition")).toMatch(
      /^attachment; filename="margin-export-\d{4}-\d{2}-\d{2}\.json"$/,
    );
    expect(res.headers.get("cache-control")).toBe("no-store");
    const data = (await res.json()) as Export;
    expect(data).toMatchObject({ format: "margin-export", version: 1, user: { email: alice.email } });
    const byTitle = Object.fromEntries(data.tasks.map((t) => [t.title, t]));
    expect(Object.keys(byTitle).sort()).toEqual(
      ['=standup, with "quotes"', "call bob", "done already", "pay rent", "trashed"].sort(),
    );
    expect(byTitle["done already"]!.status).toBe("completed");
    expect(byTitle.trashed!.status).toBe("deleted");
    const weekly = byTitle['=standup, with "quotes"']!;
    expect(weekly).toMatchObject({
      priority: "high",
      labels: ["work", "daily"],
      notes: "line one\nline two",
    });
    expect(weekly.due?.rrule).toMatch(/FREQ=WEEKLY/);
    expect(weekly.source?.url).toBe("https://example.com/a?b=1");
    expect(data.chat.threads).toHaveLength(1);
    expect(data.chat.threads[0]).toMatchObject({ title: "planning", items: [{ type: "user_message" }] });
  });

  it("gives the open tasks as a Todoist import CSV", async () => {
    const res = await gw.api("/api/export?format=csv", alice.token);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(res.headers.get("content-disposition")).toMatch(/filename="margin-tasks-.*\.csv"/);
    const text = await res.text();
    const lines = text.split("\r\n");
    expect(lines[0]).toBe(TODOIST_COLUMNS.join(","));
    expect(text).not.toContain("done already");
    expect(text).not.toContain("trashed");
    // A cell that starts like a formula is quoted as text; commas, quotes and line breaks are CSV-quoted.
    expect(text).toContain(
      `task,"'=standup, with ""quotes"" @work @daily","line one\nline two\n\nSource: An article — https://example.com/a?b=1",1,1,,,every monday at 9,en,Europe/Berlin,,,,\r\n`,
    );
    expect(text).toContain("task,pay rent,,4,1,,,2099-12-01,en,Europe/Berlin,,,,\r\n");
    // Timed dues are in the user's zone.
    expect(text).toContain("task,call bob,,4,1,,,2099-06-01 17:30,en,Europe/Berlin,,,,\r\n");
  });

  it("refuses an unknown format and needs a session", async () => {
    expect((await gw.api("/api/export?format=xml", alice.token)).status).toBe(400);
    expect((await gw.api("/api/export", undefined)).status).toBe(401);
  });
});

describe("POST /api/import", () => {
  it("takes a Margin export through add_task, keeps states, and adds nothing the second time", async () => {
    const exported = JSON.stringify(await exportOf(alice));
    const bob = await person(gw, database, "bob");
    const first = await importFile(bob, exported, "application/json");
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({
      format: "margin",
      tasks: 5,
      created: 5,
      already_imported: 0,
      without_due: 0,
      failed: [],
    });
    const mine = await allTasks(bob);
    const byTitle = Object.fromEntries(mine.map((t) => [t.title, t]));
    expect(byTitle["done already"]!.status).toBe("completed");
    expect(byTitle.trashed!.status).toBe("deleted");
    expect(byTitle['=standup, with "quotes"']).toMatchObject({
      status: "pending",
      priority: "high",
      labels: ["work", "daily"],
      source: { url: "https://example.com/a?b=1" },
    });
    expect(byTitle['=standup, with "quotes"']!.due?.rrule).toMatch(/FREQ=WEEKLY;BYDAY=MO/);
    expect(byTitle["pay rent"]!.due).toMatchObject({ date: "2099-12-01", time: null });
    expect(byTitle["call bob"]!.due).toMatchObject({ date: "2099-06-01", time: "17:30" });

    const again = await importFile(bob, exported, "application/json");
    expect(await again.json()).toMatchObject({ created: 0, already_imported: 5, failed: [] });
    expect((await allTasks(bob)).length).toBe(5);
  });

  it("does not double an account by importing its own export", async () => {
    const exported = JSON.stringify(await exportOf(alice));
    const res = await importFile(alice, exported, "application/json");
    expect(await res.json()).toMatchObject({ tasks: 5, created: 0, already_imported: 5, failed: [] });
    expect(await allTasks(alice)).toHaveLength(5);
  });

  it("imports a task whose due has passed without it, keeping the date in its notes, once", async () => {
    const file = JSON.stringify({
      format: "margin-export",
      version: 1,
      tasks: [
        {
          id: "old-1",
          title: "file taxes",
          status: "pending",
          due: {
            at: "2020-04-15T00:00:00.000Z",
            date: "2020-04-15",
            date_only: true,
            phrase: "april 15",
            rrule: null,
          },
        },
      ],
    });
    const carol = await person(gw, database, "carol");
    expect(await (await importFile(carol, file, "application/json")).json()).toMatchObject({
      created: 1,
      without_due: 1,
    });
    expect(await (await importFile(carol, file, "application/json")).json()).toMatchObject({
      created: 0,
      already_imported: 1,
    });
    const [task] = await allTasks(carol);
    expect(task).toMatchObject({ title: "file taxes", due: null, notes: "Due (not imported): april 15" });
  });

  it("takes a Todoist CSV export: notes join their task, labels and priorities carry over, twice is once", async () => {
    const csv = [
      "TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,RESPONSIBLE,DATE,DATE_LANG,TIMEZONE,DURATION,DURATION_UNIT,DEADLINE,DEADLINE_LANG",
      "section,Errands,,,,,,,,,,,,",
      'task,"Buy milk, eggs @shopping",Full fat,1,1,Dan (1),,2099-03-01,en,Europe/Berlin,,,,',
      "note,Ask about oat milk,,,,,,,,,,,,",
      "task,Read book,,4,2,,,,,,30,minute,,",
      "task,Read book,,4,2,,,,,,30,minute,,",
      "",
    ].join("\r\n");
    const dan = await person(gw, database, "dan");
    const first = await importFile(dan, csv, "text/csv");
    expect(await first.json()).toEqual({
      format: "todoist",
      tasks: 3,
      created: 3,
      already_imported: 0,
      without_due: 0,
      failed: [],
    });
    const tasks = await allTasks(dan);
    const milk = tasks.find((t) => t.title === "Buy milk, eggs")!;
    expect(milk).toMatchObject({
      priority: "high",
      labels: ["shopping"],
      notes: "Full fat\n\nAsk about oat milk",
      due: { date: "2099-03-01" },
    });
    expect(tasks.filter((t) => t.title === "Read book")).toHaveLength(2);
    expect(tasks.find((t) => t.title === "Read book")!.notes).toBe("Duration: 30 minute");
    expect(await (await importFile(dan, csv, "text/csv")).json()).toMatchObject({
      created: 0,
      already_imported: 3,
    });
    expect(await allTasks(dan)).toHaveLength(3);
  });

  it("round-trips its own CSV export", async () => {
    const csv = await (await gw.api("/api/export?format=csv", alice.token)).text();
    const erin = await person(gw, database, "erin");
    expect(await (await importFile(erin, csv, "text/csv")).json()).toMatchObject({ created: 3, failed: [] });
    const titles = (await allTasks(erin)).map((t) => t.title).sort();
    expect(titles).toEqual(['=standup, with "quotes"', "call bob", "pay rent"]);
  });

  it("answers a bad file with a 400 that says what is wrong", async () => {
    const cases: [string, string, number, RegExp][] = [
      ["{not json", "application/json", 400, /not valid JSON/],
      [JSON.stringify({ format: "other", version: 1, tasks: [] }), "application/json", 400, /format/],
      [
        JSON.stringify({ format: "margin-export", version: 1, tasks: [{ id: "1", status: "pending" }] }),
        "application/json",
        400,
        /tasks\.0\.title/,
      ],
      ["just,some\nrandom,csv", "text/csv", 400, /TYPE and CONTENT/],
      ['TYPE,CONTENT\ntask,"never ends', "text/csv", 400, /cut off/],
      ["<xml/>", "application/xml", 415, /application\/json/],
    ];
    for (const [body, type, status, message] of cases) {
      const res = await importFile(alice, body, type);
      expect(res.status, body).toBe(status);
      expect(((await res.json()) as { error: { message: string } }).error.message, body).toMatch(message);
    }
  });

  it("round-trips an export larger than the gateway's 1 MiB body cap", async () => {
    const gina = await person(gw, database, "gina");
    for (let i = 0; i < 20; i++) {
      await addTask(gw, gina, { title: `long notes ${i}`, notes: `${i} `.padEnd(10_000, "n") });
    }
    // A long chat history is most of a real export's weight.
    const thread = await addChatThread(database, gina, "a long chat");
    await database.db.insert(chatItems).values({
      id: `msg_${thread}_long`,
      threadId: thread,
      userId: gina.id,
      type: "user_message",
      data: { type: "user_message", content: [{ type: "input_text", text: "c".repeat(1_200_000) }] },
    });
    const exported = JSON.stringify(await exportOf(gina));
    expect(exported.length).toBeGreaterThan(1024 * 1024 + 200_000);

    const hana = await person(gw, database, "hana");
    const first = await importFile(hana, exported, "application/json");
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ tasks: 20, created: 20, failed: [] });
    const again = await importFile(hana, exported, "application/json");
    expect(await again.json()).toMatchObject({ created: 0, already_imported: 20 });
    const notes = Object.fromEntries((await allTasks(hana)).map((t) => [t.title, t.notes]));
    expect(notes["long notes 7"]).toBe("7 ".padEnd(10_000, "n"));
  });

  it("refuses a file over 20 MiB with a 413 that names the limit, declared or streamed", async () => {
    const tooLarge = (res: { status: number; body: string }) => {
      expect(res.status).toBe(413);
      const { error } = JSON.parse(res.body) as { error: { code: string; message: string } };
      expect(error.code).toBe("payload_too_large");
      expect(error.message).toMatch(/larger than 20 MiB, the most one import takes/);
    };
    // A declared length over the cap is refused before a byte is read.
    tooLarge(await rawImport(alice, { declaredBytes: 20 * 1024 * 1024 + 1, sendBytes: 1024 }));
    // A chunked body (no length) is cut off by the parser at the cap.
    tooLarge(await rawImport(alice, { sendBytes: 21 * 1024 * 1024 }));
  });

  it("reads no import body on the account page before its session is checked", async () => {
    const res = await fetch(`${gw.baseUrl}/account/import`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: gw.baseUrl },
      body: JSON.stringify({ format: "margin-export", version: 1, tasks: [], pad: "p".repeat(2_000_000) }),
    });
    expect(res.status).toBe(401);
  });
});

/** POST /api/import over a raw socket: a declared length (or chunked), then as many bytes of CSV as asked. */
function rawImport(
  who: Person,
  opts: { declaredBytes?: number; sendBytes: number },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${gw.baseUrl}/api/import`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${who.token}`,
        "content-type": "text/csv",
        ...(opts.declaredBytes === undefined ? {} : { "content-length": String(opts.declaredBytes) }),
      },
    });
    let answered = false;
    req.on("response", (res) => {
      answered = true;
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    // The gateway answers and closes while the upload goes on: that is the point, not a failure.
    req.on("error", (err) => {
      if (!answered) reject(err);
    });
    const chunk = Buffer.from(`TYPE,CONTENT\n${"task,x\n".repeat(9_360)}`.slice(0, 64 * 1024));
    let sent = 0;
    const pump = () => {
      while (sent < opts.sendBytes && !answered) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      if (!answered && opts.declaredBytes === undefined) req.end();
    };
    pump();
  });
}
