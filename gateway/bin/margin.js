#!/usr/bin/env -S node --experimental-async-context-frame
// --experimental-async-context-frame (here, in package.json's scripts and the Dockerfile): Node 22 otherwise
// runs an AsyncLocalStorage hook on every promise (ours and better-auth's), 10-15% of the gateway's CPU per
// request. Node 24 makes it the default.
import "./check-node.js";

const { main } = await import("../src/cli.ts");
await main(process.argv.slice(2));
