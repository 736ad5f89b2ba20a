import { sql } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { startRetentionSweep } from "../../src/chatkit/retention.ts";
import { silentLogger } from "../support/mcp.ts";
import { addMessage, chatHarnessForFile, create, createdThreadId, itemsOf, say } from "./support.ts";

const { database, chat } = chatHarnessForFile();

beforeEach(() => {
  chat.agent.script = () => say("OK.");
});

describe("threads: create, answer, title, list, rename, delete", () => {
  it("streams a new thread, the user's message and the answer, then titles the thread", async () => {
    const token = await chat.user("first@example.com");
    chat.agent.script = () => say("Sure, here you go.");
    const r = await chat.post(token, create("What should I do about the garden this weekend?"));
    expect(r.status).toBe(200);
    expect(r.contentType).toMatch(/^text\/event-stream/);
    expect(r.shapes).toEqual([
      "thread.created",
      "thread.item.done(user_message)",
      "stream_options",
      "thread.item.added(assistant_message)",
      "thread.item.updated[assistant_message.content_part.added]",
      "thread.item.updated[assistant_message.content_part.text_delta]",
      "thread.item.updated[assistant_message.content_part.text_delta]",
      "thread.item.updated[assistant_message.content_part.text_delta]",
      "thread.item.updated[assistant_message.content_part.done]",
      "thread.item.done(assistant_message)",
      "thread.updated",
    ]);
    const title = (r.events.at(-1) as { thread: { title: string } }).thread.title;
    expect(title).toBe("What should I do about the garden this weekend?");

    const threadId = createdThreadId(r);
    const got = await chat.post(token, { type: "threads.get_by_id", params: { thread_id: threadId } });
    expect(got.status).toBe(200);
    const thread = got.json as { title: string; metadata: object; items: { data: { type: string }[] } };
    expect(thread.title).toBe(title);
    expect(thread.metadata).toEqual({});
    expect(thread.items.data.map((i) => i.type)).toEqual(["user_message", "assistant_message"]);
    const answer = thread.items.data[1] as unknown as { content: { text: string }[] };
    expect(answer.content[0]!.text).toBe("Sure, here you go.");
  });

  it("cuts a long first message into a short title at a word boundary", async () => {
    const token = await chat.user("title@example.com");
    const r = await chat.post(
      token,
      create("Please remind me to call the plumber about the leaking kitchen tap before the weekend starts"),
    );
    const title = (r.events.at(-1) as { thread: { title: string } }).thread.title;
    expect(title.length).toBeLessThanOrEqual(61);
    expect(title).toMatch(/^Please remind me to call the plumber about the leaking\S*…$/);
  });

  it("pages threads and items with cursors, newest first by default", async () => {
    const token = await chat.user("pages@example.com");
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(createdThreadId(await chat.post(token, create(`thread ${i}`))));
    const first = (await chat.post(token, { type: "threads.list", params: { limit: 2 } })).json as {
      data: { id: string; items: unknown }[];
      has_more: boolean;
      after: string;
    };
    expect(first.data.map((t) => t.id)).toEqual([ids[4], ids[3]]);
    expect(first.has_more).toBe(true);
    expect(first.after).toBe(ids[3]);
    expect(first.data[0]!.items).toEqual({ data: [], has_more: false });
    const rest = (await chat.post(token, { type: "threads.list", params: { limit: 10, after: first.after } }))
      .json as { data: { id: string }[]; has_more: boolean; after?: string };
    expect(rest.data.map((t) => t.id)).toEqual([ids[2], ids[1], ids[0]]);
    expect(rest.has_more).toBe(false);
    expect(rest.after).toBeUndefined();
    const asc = (await chat.post(token, { type: "threads.list", params: { order: "asc", limit: 2 } }))
      .json as {
      data: { id: string }[];
    };
    expect(asc.data.map((t) => t.id)).toEqual([ids[0], ids[1]]);

    const threadId = ids[0]!;
    for (let i = 0; i < 3; i++) await chat.post(token, addMessage(threadId, `more ${i}`));
    const page1 = (await chat.post(token, { type: "items.list", params: { thread_id: threadId, limit: 3 } }))
      .json as { data: { id: string; type: string }[]; has_more: boolean; after: string };
    expect(page1.data.map((i) => i.type)).toEqual(["assistant_message", "user_message", "assistant_message"]);
    expect(page1.has_more).toBe(true);
    const page2 = (
      await chat.post(token, {
        type: "items.list",
        params: { thread_id: threadId, limit: 10, after: page1.after },
      })
    ).json as { data: { id: string }[]; has_more: boolean };
    expect(page2.data).toHaveLength(5);
    expect(page2.has_more).toBe(false);
    const all = [...page1.data, ...page2.data].map((i) => i.id);
    expect(new Set(all).size).toBe(8);
  });

  it("renames, records feedback and deletes", async () => {
    const token = await chat.user("rename@example.com");
    const r = await chat.post(token, create("rename me"));
    const threadId = createdThreadId(r);
    const answerId = itemsOf(r, "assistant_message")[0]!.id;

    const renamed = await chat.post(token, {
      type: "threads.update",
      params: { thread_id: threadId, title: "  Garden   plans " },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.json).toMatchObject({
      id: threadId,
      title: "Garden plans",
      items: { data: [], has_more: false },
    });
    const listed = (await chat.post(token, { type: "threads.list", params: {} })).json as {
      data: { title: string }[];
    };
    expect(listed.data[0]!.title).toBe("Garden plans");
    expect(
      (await chat.post(token, { type: "threads.update", params: { thread_id: threadId, title: " " } }))
        .status,
    ).toBe(400);

    const feedback = await chat.post(token, {
      type: "items.feedback",
      params: { thread_id: threadId, item_ids: [answerId], kind: "negative" },
    });
    expect(feedback.json).toEqual({});
    const [row] = (await database.db
      .execute(sql`select feedback from chat.items where id = ${answerId}`)
      .then((res) => (Array.isArray(res) ? res : (res as { rows: unknown[] }).rows))) as {
      feedback: string;
    }[];
    expect(row!.feedback).toBe("negative");
    const unknownItem = await chat.post(token, {
      type: "items.feedback",
      params: { thread_id: threadId, item_ids: ["msg_nope"], kind: "positive" },
    });
    expect(unknownItem.status).toBe(404);

    expect(
      (await chat.post(token, { type: "threads.delete", params: { thread_id: threadId } })).json,
    ).toEqual({});
    const gone = await chat.post(token, { type: "threads.get_by_id", params: { thread_id: threadId } });
    expect(gone.status).toBe(404);
    expect(gone.json).toEqual({ error: { code: "not_found", message: "No such thread." } });
    const orphans = await database.db.execute(
      sql`select count(*)::int as n from chat.items where thread_id = ${threadId}`,
    );
    const n = (Array.isArray(orphans) ? orphans : (orphans as { rows: unknown[] }).rows)[0] as { n: number };
    expect(n.n).toBe(0);
  });
});

describe("a message for an existing thread", () => {
  it("is answered with the thread as stored, and refused with attachments, or when the thread is not the user's", async () => {
    const [token, other] = [await chat.user("follow-up@example.com"), await chat.user("other@example.com")];
    const threadId = createdThreadId(await chat.post(token, create("first")));
    const before = await chat.post(token, { type: "threads.get_by_id", params: { thread_id: threadId } });

    const answered = await chat.post(token, addMessage(threadId, "second"));
    expect(answered.shapes).toEqual([
      "thread.item.done(user_message)",
      "stream_options",
      "thread.item.added(assistant_message)",
      "thread.item.updated[assistant_message.content_part.added]",
      "thread.item.updated[assistant_message.content_part.text_delta]",
      "thread.item.updated[assistant_message.content_part.text_delta]",
      "thread.item.updated[assistant_message.content_part.text_delta]",
      "thread.item.updated[assistant_message.content_part.done]",
      "thread.item.done(assistant_message)",
    ]);
    expect(chat.agent.turns.at(-1)?.history.length).toBe(2);

    const withFile = addMessage(threadId, "third");
    withFile.params.input.attachments = ["atc_1"] as never;
    expect((await chat.post(token, withFile)).json).toMatchObject({
      error: { code: "attachments_unsupported" },
    });
    expect((await chat.post(other, withFile)).status).toBe(404);
    expect((await chat.post(other, addMessage(threadId, "mine now"))).status).toBe(404);

    const after = await chat.post(token, { type: "threads.get_by_id", params: { thread_id: threadId } });
    const thread = after.json as { title: string; created_at: string; items: { data: { type: string }[] } };
    const was = before.json as typeof thread;
    expect([thread.title, thread.created_at]).toEqual([was.title, was.created_at]);
    expect(thread.items.data.map((i) => i.type)).toEqual([
      "user_message",
      "assistant_message",
      "user_message",
      "assistant_message",
    ]);
  });
});

describe("retention", () => {
  it("deletes threads idle longer than CHAT_RETENTION_DAYS, with their items, and keeps the rest", async () => {
    const token = await chat.user("retention@example.com");
    const old = createdThreadId(await chat.post(token, create("old chat")));
    const fresh = createdThreadId(await chat.post(token, create("fresh chat")));
    await database.db.execute(
      sql`update chat.threads set updated_at = now() - interval '31 days' where id = ${old}`,
    );
    const sweeper = startRetentionSweep(database.db, 30, silentLogger);
    try {
      expect(await sweeper.sweep()).toBeGreaterThanOrEqual(1);
    } finally {
      sweeper.stop();
    }
    expect((await chat.post(token, { type: "threads.get_by_id", params: { thread_id: old } })).status).toBe(
      404,
    );
    expect((await chat.post(token, { type: "threads.get_by_id", params: { thread_id: fresh } })).status).toBe(
      200,
    );
  });
});
