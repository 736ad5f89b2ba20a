import { readFileSync } from "node:fs";
import { defineConfig } from "wxt";

// The public half of a key pair made once for development (the private half was never kept: loading unpacked
// needs none). Chrome derives the extension id from it, so every checkout's build has the same id and the
// gateway's default EXTENSION_ORIGINS admits it. A store build gets the store's id and drops the key.
const DEV_PUBLIC_KEY = readFileSync(new URL("./dev-public-key.txt", import.meta.url), "utf8").trim();

// Default gateway origins; any other gateway URL is granted at run time (settings → optional host permission).
const GATEWAY_HOSTS = ["http://localhost/*", "http://127.0.0.1/*"];

export default defineConfig({
  modules: ["@wxt-dev/module-react"],
  // Tests and the benchmark drive Chromium themselves.
  webExt: { disabled: true },
  manifest: ({ browser }) => ({
    name: "Margin",
    ...(browser === "firefox" ? {} : { key: DEV_PUBLIC_KEY }),
    description: "Save any page as a task, see your live list, and chat about it.",
    permissions: [
      ...(browser === "firefox" ? [] : ["sidePanel"]),
      "storage",
      "tabs",
      "activeTab",
      "scripting",
      "contextMenus",
      "alarms",
      "notifications",
    ],
    host_permissions: GATEWAY_HOSTS,
    // Reading other pages (selection, excerpt) and self-hosted gateways are asked for when needed.
    optional_host_permissions: ["http://*/*", "https://*/*"],
    action: { default_title: "Open Margin" },
    commands: {
      "save-page": {
        suggested_key: { default: "Alt+Shift+S" },
        description: "Save the page (and any selection) to Margin",
      },
    },
    icons: { 16: "icon/16.png", 32: "icon/32.png", 48: "icon/48.png", 128: "icon/128.png" },
    ...(browser === "firefox"
      ? {
          browser_specific_settings: {
            gecko: {
              id: "margin@margin.invalid",
              strict_min_version: "140.0",
              data_collection_permissions: { required: ["none"] },
            },
          },
        }
      : {}),
  }),
});
