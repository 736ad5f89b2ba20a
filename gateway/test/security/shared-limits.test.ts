// Issue 11: limits hold across gateway instances: two gateways on one database spend one budget per user
// (task writes, REST and /mcp alike; open live streams) and per account (sign-in failures). Writes and
// sign-ins past the limit answer 429 with Retry-After; a stream past it closes the user's oldest stream.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { streamLeases, user } from "../../src/db/schema.ts";
import { postJson, signUp } from "../support/auth.ts";
import { testDbKind } from "../support/database.ts";
import { type GatewayHarness, readSse, startGatewayHarness } from "../support/gateway.ts";
import { startMcpHttpHarness } from "../support/mcp.ts";
import { databaseForFile } from "../support/suite.ts";

const database = databaseForFile();
let a: GatewayHarness;
let b: GatewayHarness;

const WRITES_PER_MINUTE = 6;
const STREAMS_PER_USER = 20;
// Short, so the leases are renewed (every third of it) while the tests run.
const STREAM_LEASE_MS = 3000;

beforeAll(async () => {
  const mcp = await startMcpHttpHarness(database);
  const opts = {
    mcp,
    writeRateLimitPerMinute: WRITES_PER_MINUTE,
    // The test signs in where it then fails (loopback): one failure there, and the account's wait applies to it.
    throttle: { accountFreeFailures: 2, accountBaseDelaySeconds: 30, knownAddressFailures: 1 },
    streamLeaseMs: STREAM_LEASE_MS,
  };
  a = await startGatewayHarness(database, opts);
  b = await startGatewayHarness(database, opts);
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await a?.mcp.close();
});

const addTask = (gw: GatewayHarness, token: string, title: string) =>
  gw.api("/api/tasks", token, { method: "POST", body: JSON.stringify({ title }) });

describe("limits shared by gateway instances", () => {
  it("a user's write budget is one budget, whichever instance the writes reach", async () => {
    const token = await signUp(a.baseUrl, "shared-writes@example.com");
    const statuses: number[] = [];
    for (let i = 0; i < WRITES_PER_MINUTE; i++) {
      const res = await addTask(i % 2 ? b : a, token, `task ${i}`);
      statuses.push(res.status);
    }
    expect(statuses.every((s) => s === 201)).toBe(true);

    for (const gw of [a, b]) {
      const refused = await addTask(gw, token, "one too many");
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
      expect((await refused.json()).error.code).toBe("rate_limited");
    }
    // Another user's budget is untouched.
    const other = await signUp(b.baseUrl, "shared-writes-other@example.com");
    expect((await addTask(a, other, "mine")).status).toBe(201);
  });

  it("failed sign-ins on one instance make the account wait on the other", async () => {
    await signUp(a.baseUrl, "shared-signin@example.com");
    const attempt = (gw: GatewayHarness) =>
      postJson(gw.baseUrl, "/api/auth/sign-in/email", {
        email: "shared-signin@example.com",
        password: "wrong-password-123",
      });
    // Free failures, then one that sets the wait, spread over both instances.
    for (const gw of [a, b, a]) expect((await attempt(gw)).status).toBe(401);
    const throttled = await attempt(b);
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get("retry-after"))).toBeGreaterThan(20);
  });
});

type Stream = ReturnType<typeof readSse>;

async function openStream(baseUrl: string, token: string): Promise<Stream> {
  const res = await fetch(`${baseUrl}/api/changes`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  const stream = readSse(res);
  await stream.waitFor((events) => events.some((e) => e.event === "ready"));
  return stream;
}

const userId = async (email: string) =>
  (await database.db.select({ id: user.id }).from(user).where(eq(user.email, email)))[0]!.id;

describe("live streams: one budget per user across instances", () => {
  it("streams on both instances spend one budget: past it, the oldest close, wherever they are", async () => {
    const token = await signUp(a.baseUrl, "shared-streams@example.com");
    const streams: Stream[] = [];
    for (let i = 0; i < STREAMS_PER_USER; i++) streams.push(await openStream((i % 2 ? b : a).baseUrl, token));
    // Eight opens at once, on both instances: all open, and the eight oldest streams (half on each) close.
    const racing = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 ? b : a).api("/api/changes", token)),
    );
    expect(racing.map((r) => r.status)).toEqual(Array(8).fill(200));
    for (const s of streams.slice(0, 8)) await closedWith(s, "too_many_streams");
    const open = [...streams.slice(8), ...racing.map((res) => readSse(res))];
    for (const s of open) await s.waitFor((events) => events.some((e) => e.event === "ready"));
    expect(await leaseCount("shared-streams@example.com")).toBe(STREAMS_PER_USER);
    expect(open.some(isClosed)).toBe(false);

    // Another user has a budget of their own: their stream closes none of these.
    const other = await signUp(b.baseUrl, "shared-streams-other@example.com");
    const theirs = await openStream(a.baseUrl, other);

    // A stream closed on b gives its slot to a stream on a, which then closes nobody's.
    await open.pop()!.close();
    await waitForLeases("shared-streams@example.com", STREAMS_PER_USER - 1);
    open.push(await openStream(a.baseUrl, token));
    expect([...open, theirs].some(isClosed)).toBe(false);
    for (const s of [...open, theirs]) await s.close();
  });

  it("an eviction whose notice never arrived still closes its stream, at the instance's next renewal", async () => {
    const email = "lost-notice@example.com";
    const token = await signUp(a.baseUrl, email);
    const stream = await openStream(a.baseUrl, token);
    const other = await openStream(b.baseUrl, token);
    // As another instance's eviction does, but with no pg_notify: the notice was lost (LISTEN was down).
    const oldest = sql`(select id from stream_leases where user_id = ${await userId(email)} order by opened_at limit 1)`;
    await database.db.delete(streamLeases).where(eq(streamLeases.id, oldest));
    expect(await leaseCount(email)).toBe(1);
    await closedWith(stream, "too_many_streams");
    expect(isClosed(other)).toBe(false);
    await other.close();
  });

  it("a lease swept while its instance could not renew for a whole lease counts again, its stream open", async () => {
    const email = "swept-lease@example.com";
    const token = await signUp(a.baseUrl, email);
    const id = await userId(email);
    const stream = await openStream(a.baseUrl, token);
    expect(await leaseCount(email)).toBe(1);
    // The table locked for longer than a lease: no instance renews, and the lease is swept as expired.
    await database.db.transaction(async (tx) => {
      await tx.execute(sql`lock table stream_leases in access exclusive mode`);
      await tx.delete(streamLeases).where(eq(streamLeases.userId, id));
      await new Promise((resolve) => setTimeout(resolve, STREAM_LEASE_MS + 500));
    });
    await waitForLeases(email, 1);
    // Past the next renewal too: the stream is still open.
    await new Promise((resolve) => setTimeout(resolve, STREAM_LEASE_MS / 2));
    expect(isClosed(stream)).toBe(false);
    expect(await leaseCount(email)).toBe(1);
    await stream.close();
  });

  // The embedded database can only be open in one process, so leases of an instance that is not running in
  // this one are what a crashed run left behind: they don't count, and the user's panels reconnect at once. On
  // Postgres other instances may be alive, so a real gateway process is killed (SIGKILL: no cleanup runs).
  it.runIf(testDbKind === "pglite")(
    "leases a crashed run left in the embedded database don't count, while this run's instances share one budget",
    async () => {
      const email = "abandoned-streams@example.com";
      const token = await signUp(a.baseUrl, email);
      const id = await userId(email);
      await database.db.insert(streamLeases).values(
        Array.from({ length: STREAMS_PER_USER }, () => ({
          id: crypto.randomUUID(),
          userId: id,
          instanceId: "an-instance-of-a-crashed-run",
          expiresAt: sql`now() + interval '1 hour'`,
        })),
      );
      const streams: Stream[] = [];
      for (let i = 0; i < STREAMS_PER_USER; i++)
        streams.push(await openStream((i % 2 ? b : a).baseUrl, token));
      expect(await leaseCount(email)).toBe(STREAMS_PER_USER);
      expect(streams.some(isClosed)).toBe(false);
      // Past the budget, this run's own oldest stream closes.
      streams.push(await openStream(b.baseUrl, token));
      await closedWith(streams[0]!, "too_many_streams");
      for (const s of streams) await s.close();
    },
  );

  it.runIf(testDbKind === "postgres")(
    "a gateway process killed with its streams open gives their slots to new streams at once",
    async () => {
      const email = "killed-instance@example.com";
      const token = await signUp(a.baseUrl, email);
      const child = await startGatewayProcess();
      try {
        const onDead: Stream[] = [];
        for (let i = 0; i < STREAMS_PER_USER; i++) onDead.push(await openStream(child.baseUrl, token));
        child.process.kill("SIGKILL");
        await once(child.process, "exit");
        await Promise.all(onDead.map((s) => s.done));
        // Its rows are still there: nobody closed the streams on the server side.
        expect(await leaseCount(email)).toBe(STREAMS_PER_USER);

        // The dead instance's leases are the oldest: new streams take their slots, and close none of each other.
        const streams: Stream[] = [];
        for (let i = 0; i < STREAMS_PER_USER; i++)
          streams.push(await openStream((i % 2 ? a : b).baseUrl, token));
        expect(await leaseCount(email)).toBe(STREAMS_PER_USER);
        expect(streams.some(isClosed)).toBe(false);
        for (const s of streams) await s.close();
      } finally {
        child.process.kill("SIGKILL");
      }
    },
  );
});

const isClosed = (s: Stream) => s.events.some((e) => e.event === "closed");

async function closedWith(stream: Stream, reason: string) {
  await stream.waitFor((events) => events.some((e) => e.event === "closed"), 10_000);
  await stream.done;
  expect(JSON.parse(stream.events.find((e) => e.event === "closed")!.data!)).toEqual({ reason });
}

/** A closed stream's lease is released a moment after its response ends. */
async function waitForLeases(email: string, count: number) {
  const deadline = Date.now() + 5000;
  while ((await leaseCount(email)) !== count) {
    if (Date.now() > deadline) throw new Error(`the user's leases did not reach ${count}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function leaseCount(email: string): Promise<number> {
  const id = await userId(email);
  return (await database.db.select().from(streamLeases).where(eq(streamLeases.userId, id))).length;
}

async function startGatewayProcess(): Promise<{ process: ChildProcess; baseUrl: string }> {
  const script = fileURLToPath(new URL("../support/gateway-process.ts", import.meta.url));
  const child = spawn(process.execPath, [script, database.url!, String(STREAM_LEASE_MS)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await Promise.race([
    once(lines, "line"),
    once(child, "exit").then(([code]) => {
      throw new Error(`the gateway process exited (${code}) before listening`);
    }),
  ])) as [string];
  return { process: child, baseUrl: (JSON.parse(line) as { baseUrl: string }).baseUrl };
}
