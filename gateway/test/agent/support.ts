import type { Model } from "@openai/agents";
import { eq } from "drizzle-orm";
import { createChatAgent } from "../../src/agent/chat-agent.ts";
import {
  type AgentEvent,
  AgentTurnError,
  type AgentUser,
  type ChatAgent,
  type TurnInput,
} from "../../src/agent/contract.ts";
import type { ModelSource } from "../../src/agent/providers.ts";
import { tasks as tasksTable } from "../../src/db/task-schema.ts";
import { createTaskServiceClient, type TaskServiceClient } from "../../src/task-service/client.ts";
import { ensureUsers, type TestDatabase } from "../support/database.ts";
import { type McpHttpHarness, silentLogger, startMcpHttpHarness, TEST_SECRET } from "../support/mcp.ts";
import { databaseForFileWith } from "../support/suite.ts";

/** The real MCP server over HTTP and the gateway's real task-service client to it, on a test database. */
export type TaskWorld = {
  mcp: McpHttpHarness;
  tasks: TaskServiceClient;
  /** The agent for a model: an SDK model (scripted) or a provider's `ModelSource` (the real provider code). */
  agent(models: ModelSource | Model, opts?: { now?: () => Date }): ChatAgent;
  close(): Promise<void>;
};

export async function startTaskWorld(database: TestDatabase): Promise<TaskWorld> {
  const mcp = await startMcpHttpHarness(database);
  const tasks = createTaskServiceClient({ mcpUrl: mcp.url, tokenSecret: TEST_SECRET, timeoutMs: 5_000 });
  const agents: ChatAgent[] = [];
  return {
    mcp,
    tasks,
    agent(models, opts = {}) {
      const agent = createChatAgent({
        models: "modelFor" in models ? models : { provider: "scripted", model: models },
        tasks,
        logger: silentLogger,
        now: opts.now,
      });
      agents.push(agent);
      return agent;
    },
    async close() {
      await Promise.all(agents.map((a) => a.close()));
      await tasks.close();
      await mcp.close();
    },
  };
}

/** A TaskWorld on a fresh test database for the file's tests, both closed after them. */
export function taskWorldForFile(): { database: TestDatabase; world: TaskWorld } {
  const { database, started } = databaseForFileWith(startTaskWorld);
  return { database, world: started };
}

let users = 0;
/** A user row of its own (every task references its user), with the zone the turn runs in. */
export async function newUser(database: TestDatabase, timezone = "Europe/Berlin"): Promise<AgentUser> {
  const id = `agent-user-${process.pid}-${++users}`;
  await ensureUsers(database, id);
  return { id, timezone };
}

export type TurnResult = { events: AgentEvent[]; text: string };

const textOf = (events: AgentEvent[]) =>
  events.flatMap((e) => (e.type === "text.done" ? [e.text] : [])).join("\n");

export async function collect(events: AsyncIterable<AgentEvent>): Promise<AgentEvent[]> {
  const seen: AgentEvent[] = [];
  for await (const e of events) seen.push(e);
  return seen;
}

/** One whole turn, as the ChatKit server runs it: no history unless given, never aborted. */
export async function turn(
  agent: ChatAgent,
  user: AgentUser,
  message: string,
  more: Partial<Omit<TurnInput, "user" | "message">> = {},
): Promise<TurnResult> {
  const events = await collect(
    agent.runTurn({ user, message, history: [], signal: new AbortController().signal, ...more }),
  );
  return { events, text: textOf(events) };
}

/** The turn's failure, which must be an `AgentTurnError`. */
export async function failedTurn(
  agent: ChatAgent,
  user: AgentUser,
  message: string,
): Promise<AgentTurnError> {
  try {
    await turn(agent, user, message);
  } catch (err) {
    if (err instanceof AgentTurnError) return err;
    throw new Error(`the turn failed with ${String(err)}, not an AgentTurnError`, { cause: err });
  }
  throw new Error("the turn succeeded");
}

/** A task added straight through MCP as `user`; returns its id. */
export async function addTask(world: TaskWorld, user: AgentUser, title: string): Promise<string> {
  const result = await world.tasks.call(user, "add_task", { title });
  const task = result.structuredContent?.task as { id: string } | undefined;
  if (!task) throw new Error(`add_task failed: ${JSON.stringify(result.content)}`);
  return task.id;
}

/** The user's rows in the tasks table, as stored (the trash included), sorted by title. */
export async function rowsOf(database: TestDatabase, userId: string) {
  const rows = await database.db
    .select({
      userId: tasksTable.userId,
      title: tasksTable.title,
      status: tasksTable.status,
      dueAt: tasksTable.dueAt,
      deletedAt: tasksTable.deletedAt,
    })
    .from(tasksTable)
    .where(eq(tasksTable.userId, userId));
  return rows.sort((a, b) => a.title.localeCompare(b.title));
}

/** Titles of the user's tasks not in the trash, and of those in it. */
export async function titlesOf(database: TestDatabase, userId: string) {
  const rows = await rowsOf(database, userId);
  return {
    kept: rows.filter((r) => r.deletedAt === null).map((r) => r.title),
    trashed: rows.filter((r) => r.deletedAt !== null).map((r) => r.title),
  };
}

export const ofType = <T extends AgentEvent["type"]>(events: AgentEvent[], type: T) =>
  events.filter((e): e is Extract<AgentEvent, { type: T }> => e.type === type);
