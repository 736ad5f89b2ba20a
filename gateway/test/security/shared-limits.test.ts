// Issue 11: limits hold across gateway instances: two gateways on one database spend one budget per user
// (task writes, REST and /mcp alike) and per account (sign-in failures), and answer 429 with Retry-After.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postJson, signUp } from "../support/auth.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { type GatewayHarness, startGatewayHarness } from "../support/gateway.ts";
import { startMcpHttpHarness } from "../support/mcp.ts";

let database: TestDatabase;
let a: GatewayHarness;
let b: GatewayHarness;

const WRITES_PER_MINUTE = 6;

beforeAll(async () => {
  database = await createTestDatabase();
  const mcp = await startMcpHttpHarness(database);
  const opts = {
    mcp,
    writeRateLimitPerMinute: WRITES_PER_MINUTE,
    throttle: { accountFreeFailures: 2, accountBaseDelaySeconds: 30 },
  };
  a = await startGatewayHarness(database, opts);
  b = await startGatewayHarness(database, opts);
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await a?.mcp.close();
  await database?.destroy();
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
