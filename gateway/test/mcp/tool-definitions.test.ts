import { countTokens } from "gpt-tokenizer";
import { describe, expect, it } from "vitest";
import { connectInProcess } from "../support/mcp.ts";
import { databaseForFile } from "../support/suite.ts";

const database = databaseForFile();

const listTools = async () =>
  (await (await connectInProcess(database, { id: "defs", tz: "UTC" })).listTools()).tools;

/** What a client keeps of each tool and a model may be shown: everything but transport details. */
const definitions = async () =>
  JSON.stringify(
    (await listTools()).map(({ name, description, inputSchema, outputSchema, annotations }) => ({
      name,
      description,
      inputSchema,
      outputSchema,
      annotations,
    })),
  );

describe("tool definitions", () => {
  it("pin every tool's annotations", async () => {
    const annotations = Object.fromEntries(
      (await listTools()).map((t) => [
        t.name,
        [t.annotations?.readOnlyHint, t.annotations?.destructiveHint, t.annotations?.idempotentHint],
      ]),
    );
    // [readOnly, destructive, idempotent]. set_priority is gone: update_task sets the priority.
    expect(annotations).toEqual({
      add_task: [false, false, false],
      list_tasks: [true, false, true],
      complete_task: [false, false, true],
      reopen_task: [false, false, true],
      update_task: [false, false, true],
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

  it("are at most 9,250 bytes with their output schemas, and 2,500 tokens", async () => {
    const json = await definitions();
    expect(Buffer.byteLength(json)).toBeLessThanOrEqual(9_250);
    expect(countTokens(json)).toBeLessThanOrEqual(2_500);
  });

  it("describe a task id once, not as a uuid pattern in every tool", async () => {
    const json = await definitions();
    expect(json).not.toMatch(/"pattern"|"format":"uuid"/);
  });

  it("give every tool an output schema, and every field a description", async () => {
    for (const tool of await listTools()) {
      expect(tool.outputSchema, tool.name).toBeDefined();
      expect(tool.description?.length ?? 0, tool.name).toBeGreaterThan(20);
      type Property = { description?: string; anyOf?: Property[] };
      const properties = (tool.inputSchema.properties ?? {}) as Record<string, Property>;
      for (const [field, schema] of Object.entries(properties)) {
        // Plain fields whose name says it all (title, notes, priority's enum) may go without.
        if (["title", "notes"].includes(field) || (field === "priority" && tool.name === "update_task"))
          continue;
        const description = schema.description ?? schema.anyOf?.find((s) => s.description)?.description;
        expect(description, `${tool.name}.${field}`).toBeTruthy();
      }
    }
  });

  it("say what dates, lists and filters mean", async () => {
    const tools = Object.fromEntries((await listTools()).map((t) => [t.name, JSON.stringify(t)]));
    for (const example of ["tomorrow 5pm", "next friday", "in 2 hours", "jan 27 9:30am", "09:00", "past"]) {
      expect(tools.add_task).toContain(example);
    }
    expect(tools.add_task).toMatch(/user's time zone/);
    expect(tools.add_task).toMatch(/extract_due/);
    expect(tools.list_tasks).toMatch(/upcoming: after today/);
    expect(tools.list_tasks).toMatch(/default 50/);
    expect(tools.list_tasks).toMatch(/all = pending and completed, not the trash/);
    expect(tools.list_tasks).toMatch(/user's time zone/);
  });
});
