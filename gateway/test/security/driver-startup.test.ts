// postgres.js fetches array types on each new connection and drops that query's promise (porsager/postgres
// #1192, #1205, #1223): a connection killed at that moment rejected it with nobody listening, and Node exited.
// A real pg_terminate_backend lands on the first connection exactly then; the process must live on, log it,
// and serve the next queries. Postgres only: the connection is a server's.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { type AddressInfo, connect as connectTcp, createServer, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDbKind } from "../support/database.ts";

const adminUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

describe.skipIf(testDbKind === "pglite")("a connection killed while the driver starts it", () => {
  const name = `margin_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  const server = new URL(adminUrl);
  let proxyUrl: string;
  let killed = 0;
  const proxy = createServer((client) => {
    const upstream = connectTcp(Number(server.port || 5432), server.hostname);
    let held = false;
    client.on("data", (chunk: Buffer) => {
      // The driver's array-type query, on the first connection that sends it: terminate its backend.
      if (!held && killed === 0 && chunk.includes("typcategory")) {
        held = true;
        killed++;
        admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name}`.catch(() => {});
        return;
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => client.write(chunk));
    const end = (other: Socket) => () => other.destroy();
    client.on("close", end(upstream));
    upstream.on("close", end(client));
    client.on("error", () => {});
    upstream.on("error", () => {});
  });

  beforeAll(async () => {
    await admin.unsafe(`create database ${name}`);
    proxy.listen(0, "127.0.0.1");
    await once(proxy, "listening");
    const url = new URL(adminUrl);
    url.host = `127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    url.pathname = `/${name}`;
    proxyUrl = url.href;
  });
  afterAll(async () => {
    proxy.close();
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  });

  it("logs the failure and keeps the process, which then queries normally", async () => {
    const script = fileURLToPath(new URL("../support/startup-fault-client.ts", import.meta.url));
    const child = spawn(process.execPath, [script, proxyUrl], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk));
    const [code] = await once(child, "exit");

    expect(killed).toBe(1);
    expect(stderr).not.toMatch(/unhandled|triggerUncaughtException/i);
    expect(code).toBe(0);
    const outcomes = JSON.parse(stdout) as string[];
    // The driver may hand the killed connection's error to the first query (#1223); the rest succeed.
    expect(outcomes.slice(1)).toEqual(["ok", "ok", "ok"]);
    const logged = stderr
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { level: number; msg: string; err?: { code?: string } });
    expect(logged).toContainEqual(
      expect.objectContaining({ level: 50, err: expect.objectContaining({ code: "57P01" }) }),
    );
  });
});
