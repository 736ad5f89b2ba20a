import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseForFile } from "../support/suite.ts";
import { type PeerServer, packageBin, runNode, startPeerServer } from "./support.ts";

// MCP Inspector's CLI mode as a real third-party client: direct to the app with its own bearer header.
const inspector = packageBin("@modelcontextprotocol/inspector", "inspector");
const USER = "inspector-user";

const database = databaseForFile();
let peer: PeerServer;
let home: string;

beforeAll(async () => {
  peer = await startPeerServer(database, USER);
  // The Inspector keeps a catalog and OAuth secrets under ~/.mcp-inspector; keep them out of the real home.
  home = await mkdtemp(path.join(tmpdir(), "margin-inspector-"));
});
afterAll(async () => {
  await peer?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

async function inspect(args: string[], headers: string[] = []) {
  const run = await runNode(
    inspector,
    ["--cli", peer.appUrl.href, ...args, ...headers.flatMap((h) => ["--header", h])],
    { timeoutMs: 30_000, env: { HOME: home, MCP_CATALOG_PATH: path.join(home, "mcp.json") } },
  );
  return { ...run, output: `${run.stdout}\n${run.stderr}` };
}

async function inspectJson(args: string[]) {
  const run = await inspect(args, [`Authorization: Bearer ${await peer.token(USER)}`]);
  expect(run.code, run.output).toBe(0);
  // biome-ignore lint/suspicious/noExplicitAny: asserting on the CLI's JSON output shape.
  return JSON.parse(run.stdout) as any;
}

describe("MCP Inspector CLI", () => {
  it("lists the tools with their schemas", async () => {
    const { tools } = await inspectJson(["--method", "tools/list"]);
    const names = tools.map((t: { name: string }) => t.name);
    expect(names).toEqual(expect.arrayContaining(["add_task", "list_tasks", "complete_task"]));
    const add = tools.find((t: { name: string }) => t.name === "add_task");
    expect(add.inputSchema).toMatchObject({ type: "object", required: ["title"] });
    expect(add.annotations).toMatchObject({ readOnlyHint: false });
  });

  it("adds a task with tools/call, which list_tasks then returns", async () => {
    const added = await inspectJson([
      "--method",
      "tools/call",
      "--tool-name",
      "add_task",
      "--tool-arg",
      "title=from the inspector",
      "--tool-arg",
      "due=2099-12-01",
    ]);
    expect(added.isError).toBeFalsy();
    expect(added.structuredContent).toMatchObject({
      created: true,
      task: { title: "from the inspector", status: "pending", due: { date: "2099-12-01" } },
    });
    const listed = await inspectJson(["--method", "tools/call", "--tool-name", "list_tasks"]);
    expect(listed.structuredContent.tasks).toEqual([
      expect.objectContaining({ id: added.structuredContent.task.id, title: "from the inspector" }),
    ]);
  });

  it("without a token, stops at the 401 instead of waiting for an interactive login", async () => {
    const run = await inspect(["--method", "tools/list"]);
    expect(run.code, run.output).not.toBe(0);
    expect(run.output).toContain('"auth_required"');
  });
});
