// The shared write budget, as two gateway instances on one database spend it: in leases, so most writes cost
// no store round trip, yet never more than the budget in all, and an idle lease goes back to the others.
import { eq } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { rateLimits } from "../../src/db/limits-schema.ts";
import { createWriteBudget, type WriteBudget } from "../../src/http/write-budget.ts";
import { databaseForFile } from "../support/suite.ts";

const database = databaseForFile();
const budgets: WriteBudget[] = [];

afterAll(async () => {
  await Promise.all(budgets.map((b) => b.close()));
});

function instance(perMinute: number, idleReturnMs = 60_000): WriteBudget {
  const budget = createWriteBudget(perMinute, database.db, { idleReturnMs });
  budgets.push(budget);
  return budget;
}

/** Takes one write at a time until refused; how many were allowed. */
async function spendAll(budget: WriteBudget, user: string): Promise<number> {
  let allowed = 0;
  while ((await budget.take(user, 1)) === null) allowed++;
  return allowed;
}

const stored = async (user: string) =>
  (
    await database.db
      .select()
      .from(rateLimits)
      .where(eq(rateLimits.key, `writes:${user}`))
  )[0]?.points ?? 0;

describe("the write budget shared by instances", () => {
  it("takes a lease from the store and spends it locally: 400 a minute → leases of 20", async () => {
    const a = instance(400);
    expect(await a.take("lease-user", 1)).toBeNull();
    expect(await stored("lease-user")).toBe(20);
    for (let i = 0; i < 19; i++) expect(await a.take("lease-user", 1)).toBeNull();
    expect(await stored("lease-user")).toBe(20);
    expect(await a.take("lease-user", 1)).toBeNull();
    expect(await stored("lease-user")).toBe(40);
  });

  it("never allows more than the budget across instances, and an idle lease goes back to the other", async () => {
    const a = instance(400, 100);
    const b = instance(400, 100);
    expect(await a.take("shared-user", 1)).toBeNull();
    // a holds 19 unspent; b may spend the rest of the budget, not a's lease.
    expect(await spendAll(b, "shared-user")).toBe(380);
    const refused = await b.take("shared-user", 1);
    expect(refused?.retryAfterSeconds).toBeGreaterThan(0);
    // Once a's lease has sat idle, its rest is b's to spend, and the budget is then exactly used up.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await spendAll(b, "shared-user")).toBe(19);
    expect(await a.take("shared-user", 1)).not.toBeNull();
    expect(await stored("shared-user")).toBe(400);
  });

  it("concurrent writes on one instance get exactly the budget", async () => {
    const a = instance(100);
    const verdicts = await Promise.all(Array.from({ length: 150 }, () => a.take("burst-user", 1)));
    expect(verdicts.filter((v) => v === null)).toHaveLength(100);
    expect(verdicts.filter((v) => v !== null).every((v) => v!.retryAfterSeconds > 0)).toBe(true);
  });

  it("a batch bigger than a lease takes what it needs, and a refused batch spends nothing", async () => {
    const a = instance(400);
    expect(await a.take("batch-user", 30)).toBeNull();
    expect(await stored("batch-user")).toBe(30);
    expect(await a.take("batch-user", 371)).not.toBeNull();
    expect(await stored("batch-user")).toBe(30);
    expect(await a.take("batch-user", 370)).toBeNull();
    expect(await a.take("batch-user", 1)).not.toBeNull();
  });

  it("closing an instance gives its unspent lease back", async () => {
    const a = createWriteBudget(400, database.db);
    expect(await a.take("closing-user", 1)).toBeNull();
    expect(await stored("closing-user")).toBe(20);
    await a.close();
    expect(await stored("closing-user")).toBe(1);
  });

  it("small budgets are counted one write at a time", async () => {
    const a = instance(6);
    const b = instance(6);
    const verdicts = [];
    for (let i = 0; i < 8; i++) verdicts.push(await (i % 2 ? b : a).take("small-user", 1));
    expect(verdicts.map((v) => v === null)).toEqual([true, true, true, true, true, true, false, false]);
  });
});
