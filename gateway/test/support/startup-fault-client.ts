// A process using the app's Postgres connection (db/connect.ts) whose first connection may be killed while
// postgres.js fetches array types (test/security/driver-startup.test.ts). Runs a few queries, prints what each
// did as JSON, then exits 0 — if it is still alive. Usage: node test/support/startup-fault-client.ts <url>
import { sql } from "drizzle-orm";
import { connect } from "../../src/db/connect.ts";

const url = process.argv[2];
if (!url) throw new Error("usage: startup-fault-client.ts <database url>");
const database = await connect({ kind: "postgres", url, max: 1 });
const outcomes: string[] = [];
for (let i = 0; i < 4; i++) {
  try {
    await database.db.execute(sql`select 1`);
    outcomes.push("ok");
  } catch (err) {
    outcomes.push(`failed: ${(err as { code?: string }).code ?? (err as Error).message}`);
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
}
await database.close();
process.stdout.write(`${JSON.stringify(outcomes)}\n`);
