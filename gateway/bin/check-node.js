// Plain JavaScript on purpose: it must run on any Node to say which one Margin needs, before any TypeScript
// loads. Used by `pnpm install` (preinstall, where it also checks pnpm) and by the `margin` command.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major !== 22 || minor < 18) {
  console.error(
    `margin: Node ${process.versions.node} is not supported; Margin needs Node 22 (22.18 or newer), ` +
      "which runs its TypeScript directly. Get it with `nvm install 22` or from https://nodejs.org.",
  );
  process.exit(1);
}
const agent = process.env.npm_config_user_agent ?? "";
const pnpm = agent.match(/\bpnpm\/(\d+)\./);
if (process.env.npm_lifecycle_event === "preinstall" && (!pnpm || Number(pnpm[1]) < 12)) {
  console.error(
    `margin: install with pnpm 12 (found ${agent.split(" ")[0] || "another package manager"}). ` +
      "Get it with `npm install --global pnpm@12`.",
  );
  process.exit(1);
}
