import { beforeAll, describe, expect, it } from "vitest";
import { signUp } from "../support/auth.ts";
import { gatewayForFile } from "../support/gateway-for-file.ts";

// Issue 12 item 11: an Idempotency-Key reused with a different body is refused (422), as payment APIs do.

const { gw } = gatewayForFile();
let token: string;

beforeAll(async () => {
  token = await signUp(gw.baseUrl, "keys@example.com");
});

const post = (key: string, body: unknown) =>
  gw.api("/api/tasks", token, {
    method: "POST",
    headers: { "idempotency-key": key },
    body: JSON.stringify(body),
  });

describe("Idempotency-Key on POST /api/tasks", () => {
  it("answers 422 when the key was used for a different body, and replays the same body", async () => {
    const body = { title: "Saved from a page", source: { url: "https://example.com/a" } };
    const first = await post("capture-1", body);
    expect(first.status).toBe(201);
    const { task } = await first.json();
    const again = await post("capture-1", body);
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect((await again.json()).task.id).toBe(task.id);

    const different = await post("capture-1", { ...body, source: { url: "https://example.com/b" } });
    expect(different.status).toBe(422);
    const { error } = await different.json();
    expect(error).toMatchObject({ code: "idempotency_conflict" });
    expect(error.message).toMatch(/already used for a different request/);
    expect(different.headers.get("idempotent-replayed")).toBeNull();

    const tasks = (await (await gw.api("/api/tasks", token)).json()).tasks;
    expect(tasks.map((t: { id: string; source: { url: string } }) => [t.id, t.source.url])).toEqual([
      [task.id, "https://example.com/a"],
    ]);
  });

  it("treats a reused key the same over MCP: a different request is an error, not the first task", async () => {
    const mcp = await gw.mcp.connect("keys-mcp-user");
    const first = await mcp.callTool({ name: "add_task", arguments: { title: "one", idempotency_key: "k" } });
    const second = await mcp.callTool({
      name: "add_task",
      arguments: { title: "two", idempotency_key: "k" },
    });
    expect(first.isError).toBeFalsy();
    expect(second.isError).toBe(true);
    await mcp.close();
  });
});
