// A gateway (with its own MCP server) in a process of its own, on the Postgres database named on the command
// line, for tests that kill an instance without letting it clean up. Prints `{ "baseUrl" }` once it listens.
// Usage: node test/support/gateway-process.ts <database url> <stream lease ms>
import { connect } from "../../src/db/connect.ts";
import { startGatewayHarness } from "./gateway.ts";

const [url, leaseMs] = process.argv.slice(2);
if (!url || !leaseMs) throw new Error("usage: gateway-process.ts <database url> <stream lease ms>");
const database = await connect({ kind: "postgres", url });
const gateway = await startGatewayHarness(
  { ...database, url, destroy: () => database.close() },
  { streamLeaseMs: Number(leaseMs) },
);
process.stdout.write(`${JSON.stringify({ baseUrl: gateway.baseUrl })}\n`);
