// When the MCP server is down, a turn fails with a message a user understands, marked retryable, and writes nothing.
import { assistantMessage, functionCall } from "@openai/agents/testing";
import { describe, expect, it } from "vitest";
import { AgentTurnError } from "../../src/agent/contract.ts";
import { RespondingModel, toolResultsThisTurn } from "../chat/model.ts";
import { databaseForFile } from "../support/suite.ts";
import { failedTurn, newUser, rowsOf, startTaskWorld, turn } from "./support.ts";

const database = databaseForFile();

let callIds = 0;
const addsATask = () =>
  new RespondingModel((request) =>
    toolResultsThisTurn(request).length === 0
      ? [functionCall("add_task", { title: "Never stored" }, { callId: `call_${++callIds}` })]
      : [assistantMessage("Added.")],
  );

describe("MCP server down", () => {
  it("before the agent's first turn: AgentTurnError, retryable, in words", async () => {
    const world = await startTaskWorld(database);
    const agent = world.agent(addsATask());
    const user = await newUser(database);
    await world.mcp.close();
    try {
      const err = await failedTurn(agent, user, "add Never stored");
      expect(err).toBeInstanceOf(AgentTurnError);
      expect(err.retryable).toBe(true);
      expect(err.message).toBe(
        "Your task list can't be reached right now, so nothing was changed. Try again shortly.",
      );
      expect(await rowsOf(database, user.id)).toEqual([]);
    } finally {
      await world.close();
    }
  });

  it("after it has been up (tools listed, connection open): the tool call fails the turn the same way", async () => {
    const world = await startTaskWorld(database);
    const agent = world.agent(addsATask());
    const user = await newUser(database);
    try {
      await turn(agent, user, "add Never stored");
      expect((await rowsOf(database, user.id)).map((r) => r.title)).toEqual(["Never stored"]);
      await world.mcp.close();
      const other = await newUser(database);
      const started = performance.now();
      const err = await failedTurn(agent, other, "add Never stored");
      expect(err.retryable).toBe(true);
      expect(err.message).toMatch(/task list can't be reached/);
      expect(performance.now() - started, "fails fast, not after a timeout").toBeLessThan(3_000);
      expect(await rowsOf(database, other.id)).toEqual([]);
    } finally {
      await world.close();
    }
  });
});
