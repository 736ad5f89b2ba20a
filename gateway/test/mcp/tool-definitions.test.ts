import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { connectInProcess } from "../support/mcp.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.destroy();
});

const listTools = async () =>
  (await (await connectInProcess(database, { id: "defs", tz: "UTC" })).listTools()).tools;

describe("tool definitions", () => {
  it("pin every tool's annotations", async () => {
    const annotations = Object.fromEntries(
      (await listTools()).map((t) => [
        t.name,
        [t.annotations?.readOnlyHint, t.annotations?.destructiveHint, t.annotations?.idempotentHint],
      ]),
    );
    // [readOnly, destructive, idempotent]
    expect(annotations).toEqual({
      add_task: [false, false, false],
      list_tasks: [true, false, true],
      complete_task: [false, false, true],
      reopen_task: [false, false, true],
      update_task: [false, false, true],
      set_priority: [false, false, true],
      delete_task: [false, true, true],
      restore_task: [false, false, true],
    });
  });

  it("take no user id or token: identity comes only from the verified token", async () => {
    for (const tool of await listTools()) {
      const params = Object.keys((tool.inputSchema.properties ?? {}) as object);
      expect(
        params.filter((p) => /user|token|auth/i.test(p)),
        tool.name,
      ).toEqual([]);
    }
  });

  it("cost a model at most 2,500 tokens (≈ 4 characters a token)", async () => {
    // What a model sees of each tool: its name, description and input schema.
    const seen = (await listTools()).map(({ name, description, inputSchema }) => ({
      name,
      description,
      inputSchema,
    }));
    const tokens = Math.ceil(JSON.stringify(seen).length / 4);
    expect(tokens).toBeLessThanOrEqual(2500);
  });

  it("give every tool an output schema and a description with what to pass", async () => {
    for (const tool of await listTools()) {
      expect(tool.outputSchema, tool.name).toBeDefined();
      expect(tool.description?.length ?? 0, tool.name).toBeGreaterThan(20);
    }
    const add = (await listTools()).find((t) => t.name === "add_task");
    for (const example of ["tomorrow 5pm", "next friday", "in 2 hours", "jan 27 9:30am"]) {
      expect(add?.description).toContain(example);
    }
  });
});
