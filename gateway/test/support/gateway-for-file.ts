// Kept apart from gateway.ts, which the benchmarks import outside vitest: this registers vitest hooks.
import type { TestDatabase } from "./database.ts";
import { type GatewayHarness, startGatewayHarness } from "./gateway.ts";
import { databaseForFileWith } from "./suite.ts";

/** The gateway harness (startGatewayHarness) on a fresh test database, for the file's tests. */
export function gatewayForFile(opts?: Parameters<typeof startGatewayHarness>[1]): {
  database: TestDatabase;
  gw: GatewayHarness;
} {
  const { database, started } = databaseForFileWith((database) => startGatewayHarness(database, opts));
  return { database, gw: started };
}
