// Issue 12 item 7: live streams end with their session on every instance, are capped per user with the oldest
// closed first (the cap is shared by all instances: shared-limits.test.ts), and a client that stops reading is
// cut off.
import { connect } from "node:net";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { user } from "../../src/db/schema.ts";
import { bearer, postJson, signIn, signUp, TEST_PASSWORD } from "../support/auth.ts";
import { type GatewayHarness, readSse, startGatewayHarness } from "../support/gateway.ts";
import { databaseForFile } from "../support/suite.ts";

const database = databaseForFile();
let a: GatewayHarness;
let b: GatewayHarness;

beforeAll(async () => {
  // Two gateway instances on one database: a session ended on one closes streams held by the other.
  a = await startGatewayHarness(database);
  b = await startGatewayHarness(database, {
    mcp: a.mcp,
    maxStreamsPerUser: 3,
    sseMaxBufferedBytes: 32 * 1024,
  });
});
afterAll(async () => {
  await b?.close();
  await a?.close();
});

async function openStream(gw: GatewayHarness, token: string) {
  const res = await gw.api("/api/changes", token);
  expect(res.status).toBe(200);
  const stream = readSse(res);
  await stream.waitFor((events) => events.some((e) => e.event === "ready"));
  return stream;
}

const closedWith = async (stream: ReturnType<typeof readSse>, reason: string) => {
  await stream.waitFor((events) => events.some((e) => e.event === "closed"), 10_000);
  await stream.done;
  expect(JSON.parse(stream.events.find((e) => e.event === "closed")!.data!)).toEqual({ reason });
};

describe("streams end with their session, on every instance", () => {
  it("sign-out on one instance closes that session's stream on the other, and only that one", async () => {
    const laptop = await signUp(a.baseUrl, "signout@example.com");
    const phone = await signIn(a.baseUrl, "signout@example.com");
    const laptopStream = await openStream(b, laptop);
    const phoneStream = await openStream(b, phone);
    expect((await postJson(a.baseUrl, "/api/auth/sign-out", {}, bearer(laptop))).status).toBe(200);
    await closedWith(laptopStream, "signed_out");
    // The phone's session lives on: its stream still gets changes.
    await a.api("/api/tasks", phone, { method: "POST", body: JSON.stringify({ title: "after sign-out" }) });
    await phoneStream.waitFor(() => phoneStream.changes().some((c) => c.task.title === "after sign-out"));
    await phoneStream.close();
  });

  it("revoking a session by id closes its stream", async () => {
    const laptop = await signUp(a.baseUrl, "revoked-stream@example.com");
    const phone = await signIn(a.baseUrl, "revoked-stream@example.com");
    const phoneStream = await openStream(b, phone);
    const sessions = (await (
      await fetch(`${a.baseUrl}/api/auth/list-sessions`, { headers: bearer(laptop) })
    ).json()) as { id: string; current: boolean }[];
    const other = sessions.find((s) => !s.current)!;
    expect(
      (await postJson(a.baseUrl, "/api/auth/revoke-session", { id: other.id }, bearer(laptop))).status,
    ).toBe(200);
    await closedWith(phoneStream, "signed_out");
  });

  it("a password change ends every session's streams and hands back a new working token", async () => {
    const laptop = await signUp(a.baseUrl, "password-change@example.com");
    const phone = await signIn(a.baseUrl, "password-change@example.com");
    const streams = [await openStream(b, laptop), await openStream(b, phone)];
    const res = await postJson(
      a.baseUrl,
      "/api/auth/change-password",
      { currentPassword: TEST_PASSWORD, newPassword: "a-brand-new-password" },
      bearer(laptop),
    );
    expect(res.status).toBe(200);
    for (const s of streams) await closedWith(s, "signed_out");
    expect((await a.api("/api/tasks", phone)).status).toBe(401);
    const fresh = res.headers.get("set-auth-token")!;
    expect((await a.api("/api/tasks", fresh)).status).toBe(200);
  });

  it("deleting the account closes its streams", async () => {
    const token = await signUp(a.baseUrl, "deleted@example.com");
    const stream = await openStream(b, token);
    await database.db.delete(user).where(eq(user.email, "deleted@example.com"));
    await closedWith(stream, "signed_out");
  });
});

describe("limits", () => {
  it("past the per-user cap, the new stream opens and the user's oldest one is closed", async () => {
    const token = await signUp(a.baseUrl, "many-streams@example.com");
    const streams = [];
    for (let i = 0; i < 3; i++) streams.push(await openStream(b, token));
    const newest = await openStream(b, token);
    await closedWith(streams[0]!, "too_many_streams");
    const open = [...streams.slice(1), newest];
    await a.api("/api/tasks", token, { method: "POST", body: JSON.stringify({ title: "seen by three" }) });
    for (const s of open) await s.waitFor(() => s.changes().some((c) => c.task.title === "seen by three"));
    expect(open.some((s) => s.events.some((e) => e.event === "closed"))).toBe(false);
    // Another user's streams neither count nor close this user's.
    const other = await signUp(a.baseUrl, "few-streams@example.com");
    const theirs = await openStream(b, other);
    expect(open.some((s) => s.events.some((e) => e.event === "closed"))).toBe(false);
    for (const s of [...open, theirs]) await s.close();
  });

  it("cuts off a client that stops reading", async () => {
    const token = await signUp(a.baseUrl, "stalled@example.com");
    const created = await a.api("/api/tasks", token, {
      method: "POST",
      body: JSON.stringify({ title: "big", notes: "n".repeat(10_000) }),
    });
    const { task } = (await created.json()) as { task: { id: string } };
    // Megabytes of history to replay, written as the change log's own rows (quicker than 400 requests).
    await database.db.execute(sql`
      insert into task_changes (user_id, task_id, op, task)
      select user_id, task_id, op, task from task_changes, generate_series(1, 400)
      where task_id = ${task.id}`);

    const url = new URL(b.baseUrl);
    const socket = connect(Number(url.port), "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    let received = 0;
    let head = "";
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.on("data", (chunk: Buffer) => {
      if (received === 0) head = chunk.subarray(0, 20).toString();
      received += chunk.length;
    });
    socket.pause(); // not reading: kernel buffers fill, then the gateway's own
    socket.write(
      `GET /api/changes HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${token}\r\nLast-Event-ID: 0\r\n\r\n`,
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // Reading now drains what the kernel held and then meets the end: far less than the 4 MB replayed.
    socket.resume();
    const outcome = await Promise.race([
      closed.then(() => "cut off"),
      new Promise((resolve) => setTimeout(() => resolve("still open"), 20_000)),
    ]);
    socket.destroy();
    expect(outcome).toBe("cut off");
    expect(head).toMatch(/^HTTP\/1\.1 200/);
    expect(received).toBeLessThan(4_000_000);
  });
});
