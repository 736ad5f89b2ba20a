import { describe, expect, it } from "vitest";
import { postJson, signUp, TEST_PASSWORD } from "../support/auth.ts";
import { readSse } from "../support/gateway.ts";
import { gatewayForFile } from "../support/gateway-for-file.ts";

const { gw } = gatewayForFile({ sseHeartbeatMs: 200 });

/** A second signed-in browser of the same account: its own session token. */
async function signIn(email: string): Promise<string> {
  const res = await postJson(gw.baseUrl, "/api/auth/sign-in/email", { email, password: TEST_PASSWORD });
  return res.headers.get("set-auth-token")!;
}

const openStream = async (token: string, lastEventId?: string) => {
  const res = await gw.api("/api/changes", token, {
    headers: lastEventId ? { "last-event-id": lastEventId } : {},
  });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/text\/event-stream/);
  const stream = readSse(res);
  await stream.waitFor((events) => events.some((e) => e.event === "ready"));
  return stream;
};

const addTask = (token: string, title: string) =>
  gw
    .api("/api/tasks", token, { method: "POST", body: JSON.stringify({ title }) })
    .then(async (r) => (await r.json()).task);

describe("live changes across devices", () => {
  it("delivers a capture on one device to both of the user's other streams within a second", async () => {
    const laptop = await signUp(gw.baseUrl, "two-devices@example.com");
    const phone = await signIn("two-devices@example.com");
    const desktop = await signIn("two-devices@example.com");
    const a = await openStream(phone);
    const b = await openStream(desktop);
    try {
      const started = Date.now();
      const task = await addTask(laptop, "captured on the laptop");
      const arrived = (s: typeof a) => s.waitFor(() => s.changes().some((c) => c.task_id === task.id), 1000);
      await Promise.all([arrived(a), arrived(b)]);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(a.changes()[0]).toMatchObject({ op: "created", task: { title: "captured on the laptop" } });
      expect(b.changes()[0]!.seq).toBe(a.changes()[0]!.seq);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("resumes after Last-Event-ID with exactly what was missed, then goes live", async () => {
    const token = await signUp(gw.baseUrl, "resume@example.com");
    const first = await openStream(token);
    await addTask(token, "one");
    await first.waitFor(() => first.changes().length === 1);
    const lastSeen = first.events.filter((e) => e.id).at(-1)!.id!;
    await first.close(); // the panel goes offline

    const missed = [await addTask(token, "two"), await addTask(token, "three")];
    await gw.api(`/api/tasks/${missed[0].id}/complete`, token, { method: "POST" });

    const again = await openStream(token, lastSeen);
    try {
      await again.waitFor(() => again.changes().length === 3);
      expect(again.changes().map((c) => [c.op, c.task.title])).toEqual([
        ["created", "two"],
        ["created", "three"],
        ["completed", "two"],
      ]);
      const live = await addTask(token, "four");
      await again.waitFor(() => again.changes().some((c) => c.task_id === live.id));
      const seqs = again.changes().map((c) => c.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      expect(new Set(seqs).size).toBe(seqs.length);
    } finally {
      await again.close();
    }
  });

  it("never sends one user's changes to another user's stream", async () => {
    const alice = await signUp(gw.baseUrl, "stream-alice@example.com");
    const bob = await signUp(gw.baseUrl, "stream-bob@example.com");
    const bobStream = await openStream(bob, "0"); // even asking for everything from the start
    const aliceStream = await openStream(alice);
    try {
      const task = await addTask(alice, "alice's private task");
      await aliceStream.waitFor(() => aliceStream.changes().some((c) => c.task_id === task.id));
      await bobStream.waitFor(() => bobStream.comments.length > 0); // a heartbeat interval passes
      await new Promise((r) => setTimeout(r, 300));
      expect(bobStream.changes()).toEqual([]);
      expect(bobStream.comments.length).toBeGreaterThan(0); // heartbeats keep it open
    } finally {
      await aliceStream.close();
      await bobStream.close();
    }
  });

  it("refuses a stream without a valid session", async () => {
    expect((await gw.api("/api/changes", undefined)).status).toBe(401);
    expect((await gw.api("/api/changes", "not-a-session")).status).toBe(401);
    const token = await signUp(gw.baseUrl, "bad-resume@example.com");
    const res = await gw.api("/api/changes", token, { headers: { "last-event-id": "yesterday" } });
    expect(res.status).toBe(400);
  });
});
