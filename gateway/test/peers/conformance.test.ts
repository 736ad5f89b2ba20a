import { readFileSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { type PeerServer, packageBin, runNode, startGatewayPeer, startPeerServer } from "./support.ts";

// The official MCP conformance harness (server side), whole suite, against the real MCP server and against
// the gateway's /mcp (API key, write budget, Host/Origin allowlists), each on a real database.
const conformance = packageBin("@modelcontextprotocol/conformance", "conformance");
const baseline = fileURLToPath(new URL("./conformance-expected-failures.yml", import.meta.url));

// The scenarios that apply to an application server: each must pass with no warning.
const CURATED = ["server-initialize", "ping", "tools-list", "tools-call-error", "dns-rebinding-protection"];
const expectedFailures = new Set(
  [...readFileSync(baseline, "utf8").matchAll(/^\s+- ([\w-]+)/gm)].map((m) => m[1]!),
);

type Check = {
  id: string;
  status: "SUCCESS" | "FAILURE" | "WARNING" | "SKIPPED" | "INFO";
  errorMessage?: string;
};

type Target = { name: string; start(database: TestDatabase): Promise<PeerServer> };
const TARGETS: Target[] = [
  { name: "the MCP server", start: (database) => startPeerServer(database, "conformance-user") },
  { name: "the gateway's /mcp", start: startGatewayPeer },
];

describe.each(TARGETS)("MCP conformance (official harness) against $name", (target) => {
  let database: TestDatabase;
  let peer: PeerServer;
  let resultsDir: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    peer = await target.start(database);
    resultsDir = await mkdtemp(path.join(tmpdir(), "margin-conformance-"));
  });
  afterAll(async () => {
    await peer?.close();
    await database?.destroy();
    if (resultsDir) await rm(resultsDir, { recursive: true, force: true });
  });

  async function runConformance(args: string[], outDir: string) {
    const run = await runNode(conformance, ["server", "--url", peer.url.href, "-o", outDir, ...args], {
      timeoutMs: 90_000,
    });
    return { ...run, output: `${run.stdout}\n${run.stderr}` };
  }

  it.each(CURATED)("passes %s", async (scenario) => {
    const outDir = path.join(resultsDir, scenario);
    // The baseline is passed too, so a curated scenario wrongly listed in it fails as a stale entry.
    const run = await runConformance(["--scenario", scenario, "--expected-failures", baseline], outDir);
    expect(run.code, run.output).toBe(0);
    const checks = (await readChecks(outDir)).get(scenario);
    expect(checks, run.output).toBeDefined();
    expect(checks!.length).toBeGreaterThan(0);
    // Warnings count too: the harness's exit code alone would let them through.
    expect(checks!.filter((c) => c.status !== "SUCCESS" && c.status !== "INFO")).toEqual([]);
    if (scenario === "dns-rebinding-protection") {
      expect(checks!.map((c) => c.id).sort()).toEqual([
        "localhost-host-rebinding-rejected",
        "localhost-host-valid-accepted",
      ]);
    }
  });

  it("runs the whole suite: everything passes but the baselined fixtures and undeclared capabilities", async () => {
    const outDir = path.join(resultsDir, "all");
    const run = await runConformance(["--suite", "all", "--expected-failures", baseline], outDir);
    expect(run.code, run.output).toBe(0);
    const checks = await readChecks(outDir);
    expect(checks.size).toBeGreaterThan(30);
    for (const [scenario, list] of checks) {
      if (expectedFailures.has(scenario)) continue;
      expect(
        list.filter((c) => c.status !== "SUCCESS" && c.status !== "INFO"),
        scenario,
      ).toEqual([]);
    }
  });

  it("rejects a foreign Origin even with a valid Host (the harness only sends both foreign)", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(peer.url, {
        method: "POST",
        timeout: 5_000,
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          origin: "http://evil.example.com",
        },
      });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", reject);
      req.end(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }));
    });
    expect(status).toBe(403);
  });
});

/** checks.json of every scenario run into `outDir` (one `server-<scenario>-<timestamp>/` each). */
async function readChecks(outDir: string): Promise<Map<string, Check[]>> {
  const byScenario = new Map<string, Check[]>();
  for (const entry of await readdir(outDir)) {
    const scenario = entry.replace(/^server-/, "").replace(/-\d{4}-\d\d-\d\dT[\d-]+Z$/, "");
    byScenario.set(
      scenario,
      JSON.parse(await readFile(path.join(outDir, entry, "checks.json"), "utf8")) as Check[],
    );
  }
  return byScenario;
}
