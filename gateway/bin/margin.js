#!/usr/bin/env node
import "./check-node.js";

const { main } = await import("../src/cli.ts");
await main(process.argv.slice(2));
