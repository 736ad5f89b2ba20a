import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createApiKey, createUser } from "../../src/auth/accounts.ts";
import type { Database } from "../../src/db/connect.ts";
import { createMcpHttpApp } from "../../src/mcp-server/http.ts";
import { signMcpToken } from "../../src/mcp-server/token.ts";
import { createTaskRepository } from "../../src/tasks/repository.ts";
import { ensureUsers, type TestDatabase } from "../support/database.ts";
import { startGatewayHarness } from "../support/gateway.ts";
import { silentLogger, TEST_SECRET } from "../support/mcp.ts";

const gatewayDir = fileURLToPath(new URL("../../", import.meta.url));

/** The JS entry of an installed package's bin, run with this Node (no npx, no shell, no download). */
export function packageBin(pkg: string, bin: string): string {
  const dir = path.join(gatewayDir, "node_modules", pkg);
  const manifest = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as {
    bin: string | Record<string, string>;
  };
  const rel = typeof manifest.bin === "string" ? manifest.bin : manifest.bin[bin];
  if (!rel) throw new Error(`${pkg} has no bin "${bin}"`);
  return path.join(dir, rel);
}

export type RunResult = {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
};

/** Runs a Node script without a TTY; kills it (and fails) after `timeoutMs`. */
export function runNode(
  script: string,
  args: string[],
  opts: { timeoutMs: number; env?: NodeJS.ProcessEnv; cwd?: string },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd: opts.cwd ?? gatewayDir,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", CI: "1", ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `${path.basename(script)} ${args.join(" ")} timed out after ${opts.timeoutMs} ms\n${stdout}\n${stderr}`,
        ),
      );
    }, opts.timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export type PeerServer = {
  /** What peers talk to: the auth-adding proxy in front of the app (also the token audience). */
  url: URL;
  /** The app itself, for callers that bring their own Authorization header. */
  appUrl: URL;
  token(userId: string): Promise<string>;
  close(): Promise<void>;
};

const listen = (server: Server) =>
  new Promise<URL>((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve(new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`)),
    ),
  );

const shut = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

/** A loopback proxy to `target` that adds `authorization` and passes everything else (Host, Origin) unchanged. */
function addAuthorization(proxy: Server, target: URL, authorization: () => string) {
  proxy.on("request", (req, res) => {
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, authorization: authorization() },
        timeout: 10_000,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("timeout", () => upstream.destroy(new Error("upstream timeout")));
    upstream.on("error", () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
}

/**
 * The whole gateway (its `/mcp` proxy in front of the real MCP server) behind a loopback proxy that adds a
 * user's personal API key, as Claude Desktop or Cursor would send it. The proxy's URL is the gateway's
 * PUBLIC_URL, so the gateway's Host and Origin allowlists judge exactly what the peer sent.
 */
export async function startGatewayPeer(database: TestDatabase): Promise<PeerServer> {
  const proxy = createServer();
  const url = await listen(proxy);
  const gw = await startGatewayHarness(database, { publicUrl: new URL(url.origin) });
  const gatewayUrl = new URL("/mcp", gw.baseUrl);
  await createUser(gw.auth, { email: "peer@example.com", password: "correct-horse-battery" });
  const { key } = await createApiKey(gw.auth, database.db, { email: "peer@example.com", name: "peer" });
  addAuthorization(proxy, gatewayUrl, () => `Bearer ${key}`);
  return {
    url,
    appUrl: gatewayUrl,
    token: async () => key,
    close: async () => {
      await shut(proxy);
      await gw.close();
    },
  };
}

/**
 * The real MCP HTTP app behind a loopback proxy that adds `Authorization: Bearer <token for userId>` — peers
 * such as the conformance harness send none. Everything else (Host and Origin included) passes unchanged, so
 * the app's DNS-rebinding allowlists still see what the peer sent.
 */
export async function startPeerServer(database: Database, userId: string): Promise<PeerServer> {
  await ensureUsers(database, userId);
  const appServer = createServer();
  const proxy = createServer();
  const [appUrl, url] = await Promise.all([listen(appServer), listen(proxy)]);
  appServer.on(
    "request",
    createMcpHttpApp({
      repo: createTaskRepository(database.db),
      tokenSecret: TEST_SECRET,
      // Clients reach the app through the proxy, so that is its public URL and the tokens' audience.
      mcpUrl: url,
      authorizationServer: new URL("http://127.0.0.1:8787"),
      allowedHosts: ["127.0.0.1", "localhost"],
      // A page served by the MCP origin itself is legitimate (the conformance check sends exactly that).
      allowedOrigins: [url.origin],
      logger: silentLogger,
    }),
  );
  const token = (user: string) => signMcpToken(TEST_SECRET, { userId: user, audience: url.href, ttl: "10m" });
  const bearer = `Bearer ${await token(userId)}`;
  addAuthorization(proxy, appUrl, () => bearer);
  return {
    url,
    appUrl,
    token,
    close: async () => {
      await Promise.all([shut(proxy), shut(appServer)]);
    },
  };
}
