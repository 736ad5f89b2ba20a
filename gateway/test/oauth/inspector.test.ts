// The MCP Inspector's own OAuth flow, headless: its CLI discovers the gateway's authorization server,
// registers, starts its loopback callback listener and prints the authorization URL; the test browser signs
// in and allows on the consent page and follows the redirect to that listener, as the user's browser would;
// the Inspector then exchanges the code and runs tools/list with the token it got.
import { spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageBin } from "../peers/support.ts";
import { signUp, TEST_PASSWORD } from "../support/auth.ts";
import { gatewayForFile } from "../support/gateway-for-file.ts";
import { createBrowser, hiddenFields } from "./browser.ts";

const inspector = packageBin("@modelcontextprotocol/inspector", "inspector");

const { gw } = gatewayForFile();
let home: string;

beforeAll(async () => {
  await signUp(gw.baseUrl, "erin@example.com");
  // The Inspector keeps its OAuth state and secrets under ~/.mcp-inspector; keep them out of the real home.
  home = await mkdtemp(path.join(tmpdir(), "margin-inspector-oauth-"));
  // It also tries to open a browser; a no-op xdg-open keeps a real one from starting on a desktop.
  await mkdir(path.join(home, "bin"));
  await writeFile(path.join(home, "bin", "xdg-open"), "#!/bin/sh\nexit 0\n");
  await chmod(path.join(home, "bin", "xdg-open"), 0o755);
});
afterAll(async () => {
  if (home) await rm(home, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("MCP Inspector OAuth (CLI, headless)", () => {
  it("connects through the consent page and lists the tools", async () => {
    const callback = `http://127.0.0.1:${await freePort()}/oauth/callback`;
    const child = spawn(
      process.execPath,
      [
        inspector,
        "--cli",
        `${gw.baseUrl}/mcp`,
        "--method",
        "tools/list",
        "--format",
        "json",
        "--callback-url",
        callback,
      ],
      {
        env: {
          ...process.env,
          HOME: home,
          MCP_CATALOG_PATH: path.join(home, "mcp.json"),
          PATH: `${path.join(home, "bin")}${path.delimiter}${process.env.PATH ?? ""}`,
          BROWSER: "true",
          DISPLAY: "",
          // Without a TTY the CLI refuses interactive OAuth unless told it may hand the URL on.
          MCP_AUTO_OPEN_ENABLED: "true",
          NO_COLOR: "1",
          CI: "1",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    let stdout = "";
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    const authorizeUrl = new Promise<string>((resolve) => {
      const look = (chunk: string) => {
        output += chunk;
        const match = /(http:\/\/127\.0\.0\.1:\d+\/api\/auth\/oauth2\/authorize\?\S+)/.exec(output);
        if (match) resolve(match[1]!);
      };
      child.stdout.setEncoding("utf8").on("data", (d: string) => {
        stdout += d;
        look(d);
      });
      child.stderr.setEncoding("utf8").on("data", look);
    });
    try {
      const url = await Promise.race([
        authorizeUrl,
        exited.then((code) => {
          throw new Error(`inspector exited (${code}) before asking for authorization:\n${output}`);
        }),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`no authorization URL after 30 s:\n${output}`)), 30_000),
        ),
      ]);

      const browser = createBrowser();
      let location = (await browser.navigate(url)).location!;
      while (location.startsWith(`${gw.baseUrl}/oauth/consent`)) {
        const page = await browser.navigate(location);
        expect(page.status, page.body).toBe(200);
        expect(page.body).toContain("Inspector");
        const form = page.body.includes('value="sign-in"')
          ? {
              ...hiddenFields(page.body),
              action: "sign-in",
              email: "erin@example.com",
              password: TEST_PASSWORD,
            }
          : { ...hiddenFields(page.body), action: "allow" };
        location = (await browser.submit(`${gw.baseUrl}/oauth/consent`, form)).location!;
      }
      expect(location.startsWith(`${callback}?code=`)).toBe(true);
      // The user's browser lands on the Inspector's loopback listener with the code.
      const landed = await fetch(location);
      expect(landed.status, await landed.text()).toBeLessThan(400);

      const code = await Promise.race([
        exited,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`inspector did not finish:\n${output}`)), 30_000),
        ),
      ]);
      expect(code, output).toBe(0);
      const { result } = JSON.parse(stdout) as { result: { tools: { name: string }[] } };
      expect(result.tools.map((t) => t.name)).toEqual(expect.arrayContaining(["add_task", "list_tasks"]));
    } finally {
      child.kill("SIGKILL");
    }
  }, 90_000);
});
