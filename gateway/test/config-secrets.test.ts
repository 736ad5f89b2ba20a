// The embedded setup generates its signing secrets on first start and keeps them with the data. Two first
// starts on one folder (the newcomer test starts two at once) must end up signing alike, or the sessions the
// winner hands out stop working after a restart.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";

const run = promisify(execFile);
const config = fileURLToPath(new URL("../src/config.ts", import.meta.url));
// Each process loads the module first, then waits for the same instant, so they read and write together.
const printSecrets = `const { loadConfig } = await import(${JSON.stringify(config)});
await new Promise((resolve) => setTimeout(resolve, Number(process.env.START_AT) - Date.now()));
const c = loadConfig(process.env, { secrets: ["BETTER_AUTH_SECRET", "MCP_TOKEN_SECRET"] });
console.log(JSON.stringify([c.betterAuthSecret, c.mcpTokenSecret]));`;

let dataDir: string;
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

async function secretsSeenBy(processes: number, extra: Record<string, string> = {}) {
  const env = {
    PATH: process.env.PATH ?? "",
    DATA_DIR: dataDir,
    START_AT: String(Date.now() + 3000),
    ...extra,
  };
  const outputs = await Promise.all(
    Array.from({ length: processes }, () =>
      run(process.execPath, ["--input-type=module", "-e", printSecrets], { env }),
    ),
  );
  return outputs.map((o) => JSON.parse(o.stdout) as [string, string]);
}

describe("embedded secrets", () => {
  it("are the same for every process of a first start, and are what the data folder keeps", async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), "margin-secrets-"));
    const seen = await secretsSeenBy(8);
    expect(new Set(seen.map((s) => s.join(" "))).size).toBe(1);
    const kept = JSON.parse(readFileSync(path.join(dataDir, "secrets.json"), "utf8"));
    expect([kept.betterAuthSecret, kept.mcpTokenSecret]).toEqual(seen[0]);
    expect(seen[0]![0]).not.toBe(seen[0]![1]);
    expect(await secretsSeenBy(1)).toEqual([seen[0]]);
  });

  it("take the environment's value without writing it to disk", async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), "margin-secrets-"));
    const given = "given-in-the-environment-0123456789abcdef";
    const [[auth]] = (await secretsSeenBy(1, { BETTER_AUTH_SECRET: given })) as [[string, string]];
    expect(auth).toBe(given);
    expect(readFileSync(path.join(dataDir, "secrets.json"), "utf8")).not.toContain(given);
  });

  it("stop with a clear message when the kept file is damaged, instead of signing with new ones", async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), "margin-secrets-"));
    writeFileSync(path.join(dataDir, "secrets.json"), "{ half a fi");
    await expect(secretsSeenBy(1)).rejects.toThrow(/secrets\.json is not readable JSON .*fix or remove it/);
  });
});
