import { styleText } from "node:util";
import password from "@inquirer/password";

/** A password is needed and neither MARGIN_PASSWORD nor a terminal to ask at gave one. */
export class NoPasswordError extends Error {
  override name = "NoPasswordError";
}

/**
 * The password for a CLI command: from MARGIN_PASSWORD when set, else asked at the terminal without echo.
 * Never from the command line, where shells and pnpm echo and keep it.
 */
export async function readPassword(message: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (env.MARGIN_PASSWORD) return env.MARGIN_PASSWORD;
  if (!process.stdin.isTTY)
    throw new NoPasswordError("no terminal to ask for the password at: set MARGIN_PASSWORD instead");
  return password({ message, mask: true }, { output: process.stderr });
}

export type StartSummary = {
  gatewayUrl: URL;
  mcpUrl: URL;
  database: { kind: "postgres"; url: string } | { kind: "pglite"; dir: string };
  /** The folders to load unpacked, when the extension is built. */
  extension: { chrome: string; firefox: string } | undefined;
  /** The active model, e.g. "offline (no model key set)". */
  model: string;
};

/** What a person who just ran `pnpm start` needs next, in a few lines (the logs stay for operators). */
export function startSummary(s: StartSummary): string {
  const database =
    s.database.kind === "pglite"
      ? `embedded (PGlite) in ${s.database.dir}`
      : `Postgres at ${new URL(s.database.url).host}${new URL(s.database.url).pathname}`;
  const gateway = s.gatewayUrl.origin;
  const lines = [
    "",
    styleText("bold", "Margin is running."),
    "",
    `  Gateway     ${gateway}`,
    `  MCP server  ${s.mcpUrl.href}`,
    `  Database    ${database}`,
    `  Model       ${s.model}`,
    "",
    ...(s.extension
      ? [
          "Load the extension unpacked:",
          `  Chrome   chrome://extensions → Developer mode → Load unpacked → ${s.extension.chrome}`,
          `  Firefox  about:debugging#/runtime/this-firefox → Load Temporary Add-on → ${s.extension.firefox}/manifest.json`,
        ]
      : ["The extension is not built (started with --no-extension, or its sources are not here)."]),
    "",
    "Create the first user, then sign in from the side panel:",
    "  pnpm margin user create --email you@example.com",
    `  (or sign up at ${gateway}/device)`,
    "",
    "Ctrl-C stops Margin.",
    "",
  ];
  return `${lines.join("\n")}\n`;
}
