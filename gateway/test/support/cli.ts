import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll } from "vitest";
import { type TestDatabase, testDbKind } from "./database.ts";
import { databaseForFile } from "./suite.ts";

export const MARGIN_BIN = fileURLToPath(new URL("../../bin/margin.js", import.meta.url));
const run = promisify(execFile);

export type MarginCli = {
  /** The CLI's MCP_TOKEN_SECRET (BETTER_AUTH_SECRET is it with "-auth"). */
  secret: string;
  database: TestDatabase;
  /** The CLI's DATA_DIR; set in beforeAll. */
  dataDir: string;
  /** The environment the CLI runs in; set in beforeAll. */
  env: Record<string, string>;
  /** Runs `margin …args` to its end, with `extra` added to the environment. */
  margin(args: string[], extra?: Record<string, string>): Promise<{ stdout: string; stderr: string }>;
};

/**
 * The `margin` CLI for a file's tests, in a data directory of its own: on Postgres it gets a throwaway database
 * (DATABASE_URL); embedded runs keep their database in the data directory.
 */
export function marginCliForFile(name: string, opts: { timeoutMs?: number } = {}): MarginCli {
  const cli: MarginCli = {
    secret: `${name}-test-secret-0123456789-0123456789`,
    database: databaseForFile(),
    dataDir: "",
    env: {},
    margin: (args, extra = {}) =>
      run(process.execPath, [MARGIN_BIN, ...args], {
        env: { ...cli.env, ...extra },
        timeout: opts.timeoutMs ?? 60_000,
      }),
  };
  beforeAll(() => {
    cli.dataDir = mkdtempSync(path.join(tmpdir(), `margin-${name}-`));
    cli.env = {
      PATH: process.env.PATH ?? "",
      TZ: "UTC",
      DATA_DIR: cli.dataDir,
      MCP_TOKEN_SECRET: cli.secret,
      BETTER_AUTH_SECRET: `${cli.secret}-auth`,
      LOG_LEVEL: "silent",
      ...(testDbKind === "postgres" ? { DATABASE_URL: cli.database.url! } : {}),
    };
  });
  afterAll(() => {
    rmSync(cli.dataDir, { recursive: true, force: true });
  });
  return cli;
}
