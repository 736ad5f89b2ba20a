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
