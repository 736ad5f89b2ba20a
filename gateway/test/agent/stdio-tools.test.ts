// AGENT_MCP_STDIO: the agent takes its tools from a real `margin mcp --stdio` child process, which serves the one
// account named in MARGIN_USER_ID. That account chats as usual; every other user's turn is refused before any
// tool runs, whatever the model would do.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentTurnError, type ChatAgent } from "../../src/agent/contract.ts";
import { readModelConfig } from "../../src/agent/model-config.ts";
import { chatAgentFor } from "../../src/agent/stdio-tools.ts";
import { connect } from "../../src/db/connect.ts";
import type { TaskServiceClient } from "../../src/task-service/client.ts";
import { createTestDatabase, ensureUsers, type TestDatabase, testDbKind } from "../support/database.ts";
import { silentLogger } from "../support/mcp.ts";
import { collect, ofType, rowsOf, turn } from "./support.ts";

const BIN = fileURLToPath(new URL("../../bin/margin.js", import.meta.url));
const OWNER = { id: "stdio-owner", timezone: "Europe/Berlin" };
const STRANGER = { id: "stdio-stranger", timezone: "Europe/Berlin" };

let database: TestDatabase;
let dataDir: string;
const saved = { ...process.env };

/** The gateway's own client is never used with AGENT_MCP_STDIO: any call to it fails the test. */
const unused = new Proxy({} as TaskServiceClient, {
  get: (_, name) => () => {
    throw new Error(`the gateway's MCP client was used (${String(name)})`);
  },
});

/** What is stored for `userId`: on Postgres read at once; the embedded store is read once the child has let go. */
async function stored(userId: string) {
  if (testDbKind === "postgres") return rowsOf(database, userId);
  const store = await connect({ kind: "pglite", dir: path.join(dataDir, "pglite") });
  try {
    return await rowsOf({ ...store, url: undefined, destroy: () => store.close() }, userId);
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), "margin-stdio-tools-"));
  database = await createTestDatabase();
  if (testDbKind === "postgres") {
    await ensureUsers(database, OWNER.id, STRANGER.id);
    process.env.DATABASE_URL = database.url!;
  } else {
    // The child owns the embedded store while it runs: the accounts are made before it starts.
    const store = await connect({ kind: "pglite", dir: path.join(dataDir, "pglite") });
    await store.migrate();
    await ensureUsers(store, OWNER.id, STRANGER.id);
    await store.close();
  }
  Object.assign(process.env, {
    DATA_DIR: dataDir,
    MCP_TOKEN_SECRET: "stdio-tools-secret-0123456789-0123456789",
    MARGIN_TZ: "Europe/Berlin",
    LOG_LEVEL: "silent",
  });
});
afterAll(async () => {
  process.env = saved;
  await database?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("the agent's tools from a stdio MCP server", { timeout: 240_000 }, () => {
  let agent: ChatAgent;

  beforeAll(() => {
    // `margin` (this repository's server) on Postgres; on the embedded store, which the test process does not
    // hold (a gateway would), the same server named by its command.
    const command =
      testDbKind === "postgres" ? "margin" : JSON.stringify([process.execPath, BIN, "mcp", "--stdio"]);
    const config = readModelConfig({
      AGENT_MCP_STDIO: command,
      MARGIN_USER_ID: OWNER.id,
      DATABASE_URL: process.env.DATABASE_URL,
    });
    expect(config.mcpStdio?.args.at(-2)).toBe("mcp");
    agent = chatAgentFor(config)({ tasks: unused, logger: silentLogger });
  });

  it("adds and lists the configured account's tasks through the child process", async () => {
    const added = await turn(agent, OWNER, "add water the plants tomorrow 8am");
    expect(ofType(added.events, "tool.finished")).toMatchObject([
      { tool: "add_task", ok: true, wrote: true },
    ]);
    expect(added.text).toMatch(/water the plants/);

    const listed = await turn(agent, OWNER, "what do I have tomorrow?");
    expect(listed.text).toMatch(/water the plants/);
    // The child's dates are in its zone (MARGIN_TZ): 08:00 in Berlin.
    expect(ofType(listed.events, "tool.finished")).toMatchObject([
      { tool: "list_tasks", structured: { tasks: [{ title: "water the plants", due: { time: "08:00" } }] } },
    ]);
  });

  it("refuses another user's turn and confirmation before any tool runs", async () => {
    const err = await collect(
      agent.runTurn({
        user: STRANGER,
        message: "add buy a boat",
        history: [],
        signal: new AbortController().signal,
      }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentTurnError);
    expect((err as AgentTurnError).message).toMatch(/one account only/);
    const confirmed = await collect(
      agent.runConfirmed({
        user: STRANGER,
        confirmation: {
          id: "c1",
          prompt: "Mark 1 task done?",
          calls: [{ tool: "complete_task", args: { task_id: "x" }, label: "x" }],
        },
        signal: new AbortController().signal,
      }),
    ).catch((e: unknown) => e);
    expect(confirmed).toBeInstanceOf(AgentTurnError);
  });

  // On the embedded store, reading it also shows that closing the agent stopped the child (it held the store).
  it("stores the tasks for the configured account only, and stops the child on close", async () => {
    await agent.close();
    expect((await stored(OWNER.id)).map((r) => r.title)).toEqual(["water the plants"]);
    expect(await stored(STRANGER.id)).toEqual([]);
  });
});
